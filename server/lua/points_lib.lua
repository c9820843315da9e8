-- Points: each district's append-only, double-entry ledger. Prepended (after
-- dispatch_lib.lua, whose P, NOW, fail, hmap and event it uses) to the points scripts
-- and to report_progress.lua, which earns on completion. Every entry moves `amount`
-- points from one account to another in the same script that checks the payer has
-- them, so no account goes negative and the sum of all balances is what was funded.
--
-- Layout (under the prefix):
--   vol:<id>             a volunteer's account lives in its hash: points (balance),
--                        points_pending (earned, waiting for the fund), points_last
--                        (last entry id), points_ms (when it last changed)
--   acct:fund            the district's reward fund, same fields; its points_pending
--                        is the total of all waiting earnings
--   acct:kiosk:<id>      a kiosk's account, same fields
--   acct:external        funded: the total ever put into the fund (Σ FUND entries)
--   led:<n>              ledger entry n: id kind from to amount req item qty price rev
--                        revby reason key actor ms
--   seq:led              the last entry number
--   ledger               zset n -> n of every entry
--   ledacct:<account>    zset n -> n of the entries debiting or crediting the account
--   idem:pts:<key>       what an idempotency key wrote first: sha (of the body), entry,
--                        acct, bal, pend, stock (the balances and stock right after)
--   item:<kiosk>:<item>  catalog item hash: kiosk item name desc price stock active
--                        create_ms update_ms
--   items:<kiosk>        zset (every score 0, so ordered by id) of the kiosk's items
--   kiosks               set of kiosk ids that have a catalog
--   earnq                list of waiting earnings "<req>\t<volunteer>\t<amount>\t<why>",
--                        oldest first

local DISTRICT = string.match(P, '^{d:(.+)}:$')

-- The hash holding `account`'s balance, or nil for a malformed name.
local function acct_key(account)
  if account == 'fund' or account == 'external' then return P .. 'acct:' .. account end
  local kind, id = string.match(account, '^(%a+):(.+)$')
  if kind == 'volunteer' then return P .. 'vol:' .. id end
  if kind == 'kiosk' then return P .. 'acct:kiosk:' .. id end
  return nil
end

local function points_of(key) return tonumber(redis.call('HGET', key, 'points') or '0') end

-- Writes one entry moving `amount` from account `from` to `to` with the extra fields
-- `f`, unless `from` has too few points: then returns nil and what it has.
local function post(kind, from, to, amount, f)
  local fk, tk = acct_key(from), acct_key(to)
  if from == 'external' then
    redis.call('HINCRBY', fk, 'funded', amount)
  else
    local have = points_of(fk)
    if have < amount then return nil, have end
    redis.call('HINCRBY', fk, 'points', -amount)
  end
  redis.call('HINCRBY', tk, 'points', amount)
  local n = redis.call('INCR', P .. 'seq:led')
  local id = DISTRICT .. '-e' .. n
  local e = {id = id, kind = kind, from = from, to = to, amount = tostring(amount),
             ms = tostring(NOW)}
  local flat = {'id', id, 'kind', kind, 'from', from, 'to', to, 'amount', amount, 'ms', NOW}
  for _, k in ipairs({'req', 'item', 'qty', 'price', 'rev', 'reason', 'key', 'actor'}) do
    if f[k] ~= nil and f[k] ~= '' then
      e[k] = tostring(f[k])
      table.insert(flat, k)
      table.insert(flat, e[k])
    end
  end
  redis.call('HSET', P .. 'led:' .. n, unpack(flat))
  redis.call('ZADD', P .. 'ledger', n, n)
  for _, a in ipairs({from, to}) do
    redis.call('ZADD', P .. 'ledacct:' .. a, n, n)
    if a ~= 'external' then redis.call('HSET', acct_key(a), 'points_last', id, 'points_ms', NOW) end
  end
  local vol = string.match(from, '^volunteer:(.+)$') or string.match(to, '^volunteer:(.+)$') or ''
  event('type', 'ledger.entry', 'entry_id', id, 'kind', kind, 'from', from, 'to', to,
        'amount', amount, 'volunteer', vol, 'request', f.req or '')
  return e
end

-- The entry with id "<district>-e<n>", or nil.
local function entry_of(id)
  local d, n = string.match(id, '^(.+)-e(%d+)$')
  if d ~= DISTRICT then return nil end
  local e = hmap(P .. 'led:' .. n)
  if not e.id then return nil end
  return e
end

-- The catalog item of a REDEEM entry or of its REVERSAL (whichever side is the kiosk).
local function item_key(e)
  local kiosk = string.match(e.to, '^kiosk:(.+)$') or string.match(e.from, '^kiosk:(.+)$')
  return P .. 'item:' .. kiosk .. ':' .. e.item
end

-- What idempotency key `key` wrote first: nil if unused, false if it was used with
-- another body (`sha`), else {entry, account, balance, pending, stock}.
local function first_result(key, sha)
  local seen = redis.call('HMGET', P .. 'idem:pts:' .. key, 'sha', 'entry', 'acct', 'bal', 'pend',
                          'stock')
  if not seen[1] then return nil end
  if seen[1] ~= sha then return false end
  return {seen[2], seen[3], seen[4], seen[5], seen[6] or '-1'}
end

-- Records the first result of `key` and returns it as first_result would.
local function remember(key, sha, entry_id, account, stock)
  local k = acct_key(account)
  local a = redis.call('HMGET', k, 'points', 'points_pending')
  local r = {entry_id, account, a[1] or '0', a[2] or '0', tostring(stock or -1)}
  redis.call('HSET', P .. 'idem:pts:' .. key, 'sha', sha, 'entry', r[1], 'acct', r[2],
             'bal', r[3], 'pend', r[4], 'stock', r[5])
  return r
end

-- The reply of every points write: {outcome, entry fields, account, balance, pending,
-- stock (-1: none), item fields, volunteer doc}.
local function points_reply(outcome, r)
  local e = entry_of(r[1])
  local flat = {}
  for k, v in pairs(e) do
    table.insert(flat, k)
    table.insert(flat, v)
  end
  local item, doc = {}, ''
  if e.item then item = redis.call('HGETALL', item_key(e)) end
  local vol = string.match(r[2], '^volunteer:(.+)$')
  if vol then doc = redis.call('HGET', P .. 'vol:' .. vol, 'doc') or '' end
  return {outcome, flat, r[2], r[3], r[4], r[5], item, doc}
end

-- Pays waiting earnings, oldest first, while the fund covers the next one.
local function pay_waiting()
  local fund = P .. 'acct:fund'
  while true do
    local head = redis.call('LINDEX', P .. 'earnq', 0)
    if not head then return end
    local req, vol, amount, why = string.match(head, '^([^\t]*)\t([^\t]*)\t(%d+)\t(.*)$')
    amount = tonumber(amount)
    if points_of(fund) < amount then return end
    redis.call('LPOP', P .. 'earnq')
    local e = post('EARN', 'fund', 'volunteer:' .. vol, amount,
                   {req = req, reason = why, key = 'earn:' .. req .. ':' .. vol, actor = 'system'})
    redis.call('HINCRBY', P .. 'vol:' .. vol, 'points_pending', -amount)
    redis.call('HINCRBY', fund, 'points_pending', -amount)
    redis.call('HSET', P .. 'asg:' .. req .. ':v:' .. vol, 'points', amount, 'points_pending', 0,
               'points_entry', e.id)
  end
end

-- Credits volunteer `vol` with `amount` for completing request `req` (`why`: the rule
-- applied). Paid from the fund at once if it can and nobody is waiting before; else it
-- waits in line. At most once per request and volunteer.
local function earn(req, vol, amount, why)
  local asg = P .. 'asg:' .. req .. ':v:' .. vol
  if amount <= 0 or redis.call('HEXISTS', asg, 'points_entry') == 1 or
     tonumber(redis.call('HGET', asg, 'points_pending') or '0') > 0 then
    return
  end
  redis.call('RPUSH', P .. 'earnq', req .. '\t' .. vol .. '\t' .. amount .. '\t' .. why)
  redis.call('HINCRBY', P .. 'vol:' .. vol, 'points_pending', amount)
  redis.call('HINCRBY', P .. 'acct:fund', 'points_pending', amount)
  redis.call('HSET', asg, 'points_pending', amount)
  pay_waiting()
end
