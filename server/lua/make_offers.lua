-- Makes one round of offers for a request (after dispatch_lib.lua).
--
-- KEYS[1] request hash {d:X}:req:<id>
-- ARGV[4] request id, 5 expected round, 6 mode "next" (start round expected+1) or
--   "same" (add offers to round `expected`, e.g. a mobilisation sent in chunks),
--   7 TTL ms, 8 mobilization id or "", 9 number of offers n, then n triples
--   (kind "v"|"u", assignee id, offer document: the static part of the Offer message).
-- The round is a compare-and-set: two dispatchers that read the same round cannot
-- both start the next one (ABORTED for the loser). Candidates that no longer fit
-- (off duty, full, offered before, assigned) are skipped, not offered.
-- Returns {outcome, round, now ms, expire ms, {offer id, kind, id}..., {kind, id,
-- reason}...}; outcome "made", or "none" when nobody could be offered (then nothing
-- changed).
local req = ARGV[4]
local rk = KEYS[1]
if not fence_ok(ARGV[3]) then return fail('ABORTED', 'leader lease lost') end
local r = redis.call('HMGET', rk, 'id', 'state', 'round', 'headcount', 'n_assigned')
if not r[1] then return fail('NOT_FOUND', 'no such request') end
-- Every state in which a request may still be short of helpers (Dispatchable in
-- dispatcher.cc): a request for three whose first helper is already on the way still
-- needs offers for the other two, or it would stay due, and unstaffed, for ever.
if r[2] ~= 'SUBMITTED' and r[2] ~= 'OFFERED' and r[2] ~= 'ASSIGNED' and r[2] ~= 'EN_ROUTE' and
    r[2] ~= 'IN_SERVICE' then
  return fail('FAILED_PRECONDITION', 'the request is ' .. r[2])
end
local round, expected = tonumber(r[3] or '0'), tonumber(ARGV[5])
if round ~= expected then return fail('ABORTED', 'the request is in round ' .. round) end
if tonumber(r[5] or '0') >= tonumber(r[4] or '1') then
  return fail('FAILED_PRECONDITION', 'the request is fully staffed')
end
local new_round = round
if ARGV[6] == 'next' then new_round = round + 1 end
local expire = NOW + tonumber(ARGV[7])
local made, skipped = {}, {}
local n = tonumber(ARGV[9])
for i = 0, n - 1 do
  local kind, id, doc = ARGV[10 + 3 * i], ARGV[11 + 3 * i], ARGV[12 + 3 * i]
  local who = kind .. ':' .. id
  local why = unfit(kind, id)
  if not why and redis.call('SISMEMBER', P .. 'rtried:' .. req, who) == 1 then
    why = 'offered before'
  end
  if not why and standing(req, kind, id) then why = 'already assigned' end
  if why then
    table.insert(skipped, {kind, id, why})
  else
    local seq = redis.call('HINCRBY', rk, 'n_offers', 1)
    local o = {id = req .. '-o' .. seq, req = req, kind = kind, to = id, state = 'PENDING',
               round = tostring(new_round), create_ms = tostring(NOW),
               expire_ms = tostring(expire), state_ms = tostring(NOW), doc = doc,
               mob = ARGV[8], dr = ''}
    redis.call('HSET', P .. 'offer:' .. o.id, 'id', o.id, 'req', req, 'kind', kind, 'to', id,
               'state', o.state, 'round', o.round, 'create_ms', o.create_ms,
               'expire_ms', o.expire_ms, 'state_ms', o.state_ms, 'doc', doc, 'mob', o.mob)
    redis.call('SADD', P .. 'rpend:' .. req, o.id)
    redis.call('SADD', P .. 'rtried:' .. req, who)
    redis.call('SADD', P .. 'apending:' .. who, o.id)
    redis.call('ZADD', P .. 'expiry', expire, o.id)
    local wk = who_key(kind, id)
    redis.call('HINCRBY', wk, 'n_offers', 1)
    redis.call('HSET', wk, 'last_offer_ms', NOW)
    inbox_push(o)
    event('type', 'offer.made', 'request', req, who_field(kind), id, 'offer', o.id,
          'round', o.round, 'expire_ms', o.expire_ms, 'mobilization_id', o.mob)
    table.insert(made, {o.id, kind, id})
  end
end
if #made == 0 and ARGV[6] == 'next' then
  return {'none', round, NOW, 0, made, skipped}
end
redis.call('HSET', rk, 'round', new_round, 'update_ms', NOW)
settle(req)
return {'made', new_round, NOW, expire, made, skipped}
