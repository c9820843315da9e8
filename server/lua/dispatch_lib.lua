-- The offer and assignment state machine shared by every dispatch script. It is
-- prepended to each of them at build time (LuaScript::Composed), so each script stays
-- one atomic EVALSHA while the rules live in one place.
--
-- Every dispatch script is called with ARGV[1] = the district key prefix "{d:X}:",
-- ARGV[2] = the event stream's max length, ARGV[3] = the leader fencing token or ""
-- (see check_fence), and its own arguments from ARGV[4] on. Keys are built from the
-- prefix: they all carry the district's hash tag, so they live in one cluster slot.
--
-- Layout (all under the prefix):
--   req:<id>                request hash; dispatch fields: round, headcount, n_assigned,
--                           assignees ",v:wuxing-v3,u:wuxing-u1,", n_offers, n_declined,
--                           n_expired, esc_*, phone_hash, first_assign_ms, mob
--   offer:<offer id>        offer hash: id req kind to state round create_ms expire_ms
--                           state_ms doc mob dr note by
--   asg:<req>:<kind>:<id>   assignment hash
--   rpend:<req>             set of the request's pending offer ids
--   rtried:<req>            set of "<kind>:<id>" ever offered the request
--   rdecl:<req> rnoshow:<req> rexcl:<req>   decliners, no-shows, operator exclusions
--   apending:<kind>:<id>    set of an assignee's pending offer ids
--   inbox:<kind>:<id>       stream of an assignee's offer messages (WatchOffers)
--   expiry                  zset offer id -> expire ms (pending offers)
--   due                     zset request id -> when the leader must look at it next
--   esc                     zset request id -> escalation order (CRISIS first, oldest first)
--   served:<phone hash>     set of volunteer ids who completed work for a resident
--   lease / fence           leader lease "<token> <owner>" and its token counter

local P = ARGV[1]
local EVENTS_MAX = ARGV[2]
local INBOX_KEEP_MS = 86400000
local OFFER_KEEP_S = 30 * 86400

local function clock_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local NOW = clock_ms()

-- A script error: `code` an absl status code name; a message may start with a reason
-- in braces, e.g. '{OUT_OF_STOCK} out of stock: 0 left', which clients get as a
-- google.rpc.ErrorInfo reason (see StatusFromRedisError).
local function fail(code, message) return redis.error_reply(code .. ' ' .. message) end

-- A stale leader (its lease lost while it paused) must not act: scripts run by the
-- dispatcher loop pass the token they were granted, and it must still be current.
local function fence_ok(token)
  if token == nil or token == '' then return true end
  local lease = redis.call('GET', P .. 'lease')
  if not lease then return false end
  return string.match(lease, '^(%d+) ') == token
end

local function hmap(key)
  local flat = redis.call('HGETALL', key)
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m
end

local function event(...)
  return redis.call('XADD', P .. 'events', 'MAXLEN', '~', EVENTS_MAX, '*', ...)
end

local function who_key(kind, id)
  if kind == 'u' then return P .. 'unit:' .. id end
  return P .. 'vol:' .. id
end
local function who_field(kind)
  if kind == 'u' then return 'unit' end
  return 'volunteer'
end
local function asg_key(req, kind, id) return P .. 'asg:' .. req .. ':' .. kind .. ':' .. id end

-- Changes a volunteer's or unit's count of open assignments, bumping its revision so
-- that every instance's live index takes the new load, in order.
local function add_load(kind, id, delta)
  local key = who_key(kind, id)
  if redis.call('EXISTS', key) == 0 then return end
  local n = redis.call('HINCRBY', key, 'active_n', delta)
  if n < 0 then redis.call('HSET', key, 'active_n', 0); n = 0 end
  local rev = redis.call('HINCRBY', key, 'rev', 1)
  event('type', 'assignee.load', who_field(kind), id, 'active_n', n, 'rev', rev)
end

-- Appends the current state of offer `o` (a hash map) to its assignee's inbox.
local function inbox_push(o)
  redis.call('XADD', P .. 'inbox:' .. o.kind .. ':' .. o.to, 'MINID', '~',
             NOW - INBOX_KEEP_MS, '*', 'o', o.id, 's', o.state, 't', o.state_ms,
             'c', o.create_ms, 'x', o.expire_ms, 'r', o.round, 'dr', o.dr or '',
             'm', o.mob or '', 'doc', o.doc)
end

-- Moves pending offer `o` to a final state and tells its assignee.
local function finish_offer(o, state, fields)
  o.state = state
  o.state_ms = tostring(NOW)
  redis.call('HSET', P .. 'offer:' .. o.id, 'state', state, 'state_ms', o.state_ms)
  if fields then
    for k, v in pairs(fields) do
      o[k] = v
      redis.call('HSET', P .. 'offer:' .. o.id, k, v)
    end
  end
  redis.call('EXPIRE', P .. 'offer:' .. o.id, OFFER_KEEP_S)
  redis.call('SREM', P .. 'rpend:' .. o.req, o.id)
  redis.call('SREM', P .. 'apending:' .. o.kind .. ':' .. o.to, o.id)
  redis.call('ZREM', P .. 'expiry', o.id)
  if state == 'DECLINED' or state == 'EXPIRED' then
    redis.call('HINCRBY', who_key(o.kind, o.to), 'n_answered', 1)
  end
  inbox_push(o)
  event('type', 'offer.' .. string.lower(state), 'request', o.req, who_field(o.kind), o.to,
        'offer', o.id, 'round', o.round, 'reason', o.dr or '')
end

-- Withdraws every pending offer of request `req` (except `keep`).
local function withdraw_pending(req, keep, why)
  for _, oid in ipairs(redis.call('SMEMBERS', P .. 'rpend:' .. req)) do
    if oid ~= keep then
      local o = hmap(P .. 'offer:' .. oid)
      if o.id then finish_offer(o, 'WITHDRAWN', {dr = why}) end
    end
  end
end

local PROGRESS_RANK = {NONE = 0, EN_ROUTE = 1, ARRIVED = 2, COMPLETED = 3, RATED = 4}
local STATE_OF_PROGRESS = {[0] = 'ASSIGNED', [1] = 'EN_ROUTE', [2] = 'IN_SERVICE',
                           [3] = 'COMPLETED', [4] = 'COMPLETED'}

local function split(list)
  local out = {}
  for item in string.gmatch(list or '', '[^,]+') do table.insert(out, item) end
  return out
end

-- Recomputes a request's state from its offers and assignments, keeps the leader's
-- due set in step, and returns the state. Cancelled, escalated, completed and rated
-- requests keep their state.
local function settle(req)
  local rk = P .. 'req:' .. req
  local f = redis.call('HMGET', rk, 'state', 'headcount', 'n_assigned', 'assignees', 'open_key')
  local state = f[1]
  if state == 'CANCELLED' or state == 'ESCALATED' or state == 'COMPLETED' or state == 'RATED' then
    redis.call('ZREM', P .. 'due', req)
    return state
  end
  local headcount, assigned = tonumber(f[2] or '1'), tonumber(f[3] or '0')
  local pending = redis.call('SMEMBERS', P .. 'rpend:' .. req)
  local new
  if assigned > 0 and (assigned >= headcount or #pending == 0) then
    local low = 4
    for _, who in ipairs(split(f[4])) do
      local kind, id = string.match(who, '^(%a):(.+)$')
      local p = redis.call('HGET', asg_key(req, kind, id), 'progress') or 'NONE'
      low = math.min(low, PROGRESS_RANK[p] or 0)
    end
    if assigned < headcount and low >= 3 then low = 2 end
    new = STATE_OF_PROGRESS[low]
  elseif #pending > 0 then
    new = 'OFFERED'
  else
    new = 'SUBMITTED'
  end
  if new ~= state then redis.call('HSET', rk, 'state', new, 'update_ms', NOW) end
  if new == 'COMPLETED' then
    redis.call('ZREM', P .. 'due', req)
    if f[5] and redis.call('GET', f[5]) == req then redis.call('DEL', f[5]) end
  elseif assigned >= headcount then
    redis.call('ZREM', P .. 'due', req)
  elseif #pending > 0 then
    local first
    for _, oid in ipairs(pending) do
      local x = tonumber(redis.call('HGET', P .. 'offer:' .. oid, 'expire_ms') or NOW)
      if not first or x < first then first = x end
    end
    redis.call('ZADD', P .. 'due', first, req)
  else
    -- Needs another round now: keep an earlier due time if one is set.
    local at = redis.call('ZSCORE', P .. 'due', req)
    if not at or tonumber(at) > NOW then redis.call('ZADD', P .. 'due', NOW, req) end
  end
  return new
end

-- Creates the assignment of (kind, id) to request `req`; the caller checked that the
-- request is open and short of helpers. Returns the assignment key.
local function assign(req, kind, id, offer_id, by, reason)
  local rk = P .. 'req:' .. req
  local key = asg_key(req, kind, id)
  redis.call('DEL', key)
  redis.call('HSET', key, 'req', req, 'kind', kind, 'who', id, 'offer', offer_id or '',
             'accept_ms', NOW, 'by', by or '', 'reason', reason or '', 'progress', 'NONE',
             'progress_ms', NOW)
  redis.call('HINCRBY', rk, 'n_assigned', 1)
  redis.call('HSET', rk, 'assignees', (redis.call('HGET', rk, 'assignees') or ',') .. kind .. ':' .. id .. ',')
  if not redis.call('HGET', rk, 'first_assign_ms') then
    redis.call('HSET', rk, 'first_assign_ms', NOW)
  end
  local wk = who_key(kind, id)
  if kind == 'v' then
    redis.call('HINCRBY', wk, 'n_accepted', 1)
    local recent = P .. 'vrecent:' .. id
    redis.call('ZADD', recent, NOW, req)
    redis.call('ZREMRANGEBYSCORE', recent, '-inf', NOW - 7 * 86400000)
    redis.call('PEXPIRE', recent, 7 * 86400000)
    redis.call('HSET', wk, 'recent_load', redis.call('ZCARD', recent))
  end
  add_load(kind, id, 1)
  -- A helper who now holds the work no longer needs their other offers for it.
  for _, oid in ipairs(redis.call('SMEMBERS', P .. 'rpend:' .. req)) do
    local o = hmap(P .. 'offer:' .. oid)
    if o.kind == kind and o.to == id and oid ~= offer_id then
      finish_offer(o, 'WITHDRAWN', {dr = 'assigned'})
    end
  end
  local f = redis.call('HMGET', rk, 'headcount', 'n_assigned', 'mob')
  if tonumber(f[2]) >= tonumber(f[1] or '1') then
    withdraw_pending(req, nil, 'filled')
    if f[3] and f[3] ~= '' then
      event('type', 'mobilization.filled', 'request', req, 'mobilization_id', f[3])
    end
  end
  return key
end

-- Ends assignment (kind, id) of `req` without completion (no-show, reassignment,
-- cancellation): frees the helper's capacity.
local function release(req, kind, id, why)
  local rk = P .. 'req:' .. req
  local key = asg_key(req, kind, id)
  redis.call('HSET', key, 'release_ms', NOW, 'released', why)
  redis.call('HINCRBY', rk, 'n_assigned', -1)
  local list = redis.call('HGET', rk, 'assignees') or ','
  local item = ',' .. kind .. ':' .. id .. ','
  local pos = string.find(list, item, 1, true)
  if pos then
    redis.call('HSET', rk, 'assignees', string.sub(list, 1, pos) .. string.sub(list, pos + #item))
  end
  redis.call('HINCRBY', who_key(kind, id), 'n_ended', 1)
  add_load(kind, id, -1)
end

-- True when (kind, id) holds an assignment of `req` that has not been released or
-- completed.
local function holds(req, kind, id)
  local f = redis.call('HMGET', asg_key(req, kind, id), 'req', 'release_ms', 'progress')
  return f[1] ~= false and f[1] ~= nil and not f[2] and f[3] ~= 'COMPLETED' and f[3] ~= 'RATED'
end

-- True when (kind, id) holds an assignment of `req` that has not been released: open,
-- or completed (their part of the request is done; they cannot be assigned to it again,
-- which would replace the completed assignment and count them twice).
local function standing(req, kind, id)
  local f = redis.call('HMGET', asg_key(req, kind, id), 'req', 'release_ms')
  return f[1] ~= false and f[1] ~= nil and not f[2]
end

local OPEN = {SUBMITTED = 1, OFFERED = 1, ASSIGNED = 1, EN_ROUTE = 1, IN_SERVICE = 1, ESCALATED = 1}

-- True when a volunteer or unit already holds as many open assignments as it can.
local function full(kind, id)
  local f = redis.call('HMGET', who_key(kind, id), 'capacity', 'active_n')
  return tonumber(f[2] or '0') >= tonumber(f[1] or '1')
end

-- Checks the hard constraints a volunteer or unit must meet to take new work; returns
-- nil or the reason.
local function unfit(kind, id)
  local f = redis.call('HMGET', who_key(kind, id), 'id', 'duty', 'active')
  if not f[1] then return 'NOT_FOUND' end
  if kind == 'v' and f[2] ~= 'ON' then return 'not on duty' end
  if kind == 'u' and f[3] ~= '1' then return 'unit inactive' end
  if full(kind, id) then return 'no capacity left' end
  return nil
end
