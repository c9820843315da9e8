-- Records a new help request, or answers a replay or a duplicate, in one atomic step.
--
-- KEYS[1] idempotency record  {d:X}:idem:<request_id>     (hash: id, sha, dup)
-- KEYS[2] open-request marker {d:X}:open:<phone hash>:<category> (string: request id)
-- KEYS[3] request sequence    {d:X}:seq:req
-- KEYS[4] request index       {d:X}:reqs   (zset: seq -> id)
-- KEYS[5] event stream        {d:X}:events
-- The request hash {d:X}:req:<id> is named from ARGV[1] once the id is known; it has
-- the same hash tag, so it lives in the same cluster slot.
--
-- ARGV: 1 key prefix "{d:X}:", 2 district, 3 request_id, 4 content document (JSON),
--       5 channel, 6 category, 7 urgency, 8 community id, 9 idempotency TTL seconds,
--       10 event stream max length, 11 states in which a request is still open
--       (",A,B,", from IsOpen in engine/help_request.h), 12 headcount, 13 resident
--       phone hash, 14 dispatch grace ms: the new request joins the leader's due set
--       that much later, so the instance that took it makes the first offers and the
--       leader steps in only if it did not (e.g. it crashed), 15 batch interval ms
--       (0: none): a pooled request is due at the next multiple of it (no grace: only
--       the leader places pooled requests), so requests submitted together meet in one
--       batch cycle and none waits longer than one interval
-- Returns {outcome, hash fields...} where outcome is "created", "replayed" or
-- "duplicate" and the fields are those of the request hash (HGETALL order).
local prefix, district, request_id, doc = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local sha = redis.sha1hex(doc)

local function reply(outcome, id)
  local fields = redis.call('HGETALL', prefix .. 'req:' .. id)
  table.insert(fields, 1, outcome)
  return fields
end

local seen = redis.call('HMGET', KEYS[1], 'id', 'sha', 'dup')
if seen[1] then
  if seen[2] ~= sha then
    return redis.error_reply('INVALID_ARGUMENT request_id: was already used for a different request')
  end
  if seen[3] == '1' then return reply('duplicate', seen[1]) end
  return reply('replayed', seen[1])
end

local ttl = tonumber(ARGV[9])
local open_id = redis.call('GET', KEYS[2])
if open_id then
  local state = redis.call('HGET', prefix .. 'req:' .. open_id, 'state')
  if state and string.find(ARGV[11], ',' .. state .. ',', 1, true) then
    redis.call('HSET', KEYS[1], 'id', open_id, 'sha', sha, 'dup', '1')
    redis.call('EXPIRE', KEYS[1], ttl)
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[10], '*', 'type', 'request.duplicate',
               'request', open_id, 'request_id', request_id, 'channel', ARGV[5])
    return reply('duplicate', open_id)
  end
end

local t = redis.call('TIME')
local now_ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local seq = redis.call('INCR', KEYS[3])
local id = district .. '-' .. seq
redis.call('HSET', prefix .. 'req:' .. id,
           'id', id, 'district', district, 'request_id', request_id, 'seq', seq,
           'doc', doc, 'state', 'SUBMITTED', 'channel', ARGV[5], 'category', ARGV[6],
           'urgency', ARGV[7], 'community', ARGV[8], 'open_key', KEYS[2],
           'create_ms', now_ms, 'update_ms', now_ms, 'headcount', ARGV[12],
           'phone_hash', ARGV[13], 'round', 0, 'n_assigned', 0)
redis.call('ZADD', KEYS[4], seq, id)
local due = tonumber(now_ms) + tonumber(ARGV[14])
local interval = tonumber(ARGV[15])
if interval > 0 then due = math.ceil(tonumber(now_ms) / interval) * interval end
redis.call('ZADD', ARGV[1] .. 'due', due, id)
redis.call('SET', KEYS[2], id)
redis.call('HSET', KEYS[1], 'id', id, 'sha', sha, 'dup', '0')
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[10], '*', 'type', 'request.submitted',
           'request', id, 'channel', ARGV[5], 'category', ARGV[6], 'urgency', ARGV[7],
           'community', ARGV[8])
return reply('created', id)
