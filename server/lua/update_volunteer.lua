-- Replaces a volunteer's profile if nobody changed the volunteer since it was read.
--
-- KEYS[1] volunteer hash {d:X}:vol:<id>
-- KEYS[2] event stream   {d:X}:events
-- ARGV: 1 key prefix "{d:X}:", 2 revision read, 3 new profile document, 4 phone hash,
--       5 home community, 6 capability tokens, 7 certificates, 8 capacity,
--       9 event stream max length, 10 actor (token id), 11 changed fields "a,b"
-- Returns the hash fields. NOT_FOUND for an unknown volunteer; ABORTED when the
-- revision moved on (the caller reads again and retries).
local prefix = ARGV[1]
local cur = redis.call('HMGET', KEYS[1], 'rev', 'phone_hash', 'id')
if not cur[1] then return redis.error_reply('NOT_FOUND no such volunteer') end
if cur[1] ~= ARGV[2] then
  return redis.error_reply('ABORTED the volunteer changed while it was being updated')
end
if cur[2] ~= ARGV[4] then
  redis.call('SREM', prefix .. 'vphone:' .. cur[2], cur[3])
  redis.call('SADD', prefix .. 'vphone:' .. ARGV[4], cur[3])
end
local t = redis.call('TIME')
local now_ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('HSET', KEYS[1], 'doc', ARGV[3], 'phone_hash', ARGV[4], 'community', ARGV[5],
           'tokens', ARGV[6], 'certs', ARGV[7], 'capacity', ARGV[8], 'update_ms', now_ms)
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'type', 'volunteer.updated',
           'volunteer', cur[3], 'actor', ARGV[10], 'fields', ARGV[11], 'rev', rev)
return redis.call('HGETALL', KEYS[1])
