-- Registers a volunteer, or answers a replay of the same registration, in one step.
--
-- KEYS[1] external-id record {d:X}:vext:<external_id>  (hash: id, sha)
-- KEYS[2] volunteer sequence {d:X}:seq:vol
-- KEYS[3] volunteer index    {d:X}:vols  (zset: seq -> id)
-- KEYS[4] phone index        {d:X}:vphone:<phone hash>  (set of ids)
-- KEYS[5] event stream       {d:X}:events
-- The volunteer hash {d:X}:vol:<id> is named from ARGV[1] once the id is known.
--
-- ARGV: 1 key prefix "{d:X}:", 2 district, 3 profile document (canonical JSON),
--       4 external id, 5 phone hash, 6 home community, 7 capability tokens ",a,b,",
--       8 certificates ",MEDICAL,", 9 capacity, 10 event stream max length
-- Returns {"created" or "replayed", hash fields...}.
local prefix, district, doc = ARGV[1], ARGV[2], ARGV[3]
local sha = redis.sha1hex(doc)

local function reply(outcome, id)
  local fields = redis.call('HGETALL', prefix .. 'vol:' .. id)
  table.insert(fields, 1, outcome)
  return fields
end

local seen = redis.call('HMGET', KEYS[1], 'id', 'sha')
if seen[1] then
  if seen[2] ~= sha then
    return redis.error_reply('INVALID_ARGUMENT volunteer.external_id: is already registered ' ..
                             'with different details (as ' .. seen[1] .. '); use UpdateVolunteer')
  end
  return reply('replayed', seen[1])
end

local t = redis.call('TIME')
local now_ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local seq = redis.call('INCR', KEYS[2])
local id = district .. '-v' .. seq
redis.call('HSET', prefix .. 'vol:' .. id,
           'id', id, 'district', district, 'seq', seq, 'external_id', ARGV[4], 'doc', doc,
           'phone_hash', ARGV[5], 'community', ARGV[6], 'tokens', ARGV[7], 'certs', ARGV[8],
           'capacity', ARGV[9], 'duty', 'OFF', 'teams', ',', 'rev', 1,
           'create_ms', now_ms, 'update_ms', now_ms)
redis.call('ZADD', KEYS[3], seq, id)
redis.call('SADD', KEYS[4], id)
redis.call('HSET', KEYS[1], 'id', id, 'sha', sha)
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[10], '*', 'type', 'volunteer.registered',
           'volunteer', id, 'community', ARGV[6])
return reply('created', id)
