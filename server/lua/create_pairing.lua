-- Records a standing pairing of a volunteer with a resident, or returns the one that
-- already exists for the same volunteer and resident phone.
--
-- KEYS[1] pairing marker  {d:X}:pairkey:<volunteer id>:<phone hash>  (string: id)
-- KEYS[2] pairing sequence {d:X}:seq:pair
-- KEYS[3] volunteer hash  {d:X}:vol:<volunteer id>
-- KEYS[4] resident's pairings {d:X}:rpairs:<phone hash>  (set of ids)
-- KEYS[5] event stream    {d:X}:events
-- ARGV: 1 key prefix "{d:X}:", 2 district, 3 pairing document (JSON), 4 volunteer id,
--       5 event stream max length, 6 community, 7 actor (token id)
-- Returns {"created"|"existing", hash fields...}. NOT_FOUND for an unknown volunteer.
local prefix, district = ARGV[1], ARGV[2]

local function reply(outcome, id)
  local fields = redis.call('HGETALL', prefix .. 'pair:' .. id)
  table.insert(fields, 1, outcome)
  return fields
end

local existing = redis.call('GET', KEYS[1])
if existing then return reply('existing', existing) end
if redis.call('EXISTS', KEYS[3]) == 0 then
  return redis.error_reply('NOT_FOUND volunteer_id: no volunteer with id ' .. ARGV[4])
end
local t = redis.call('TIME')
local now_ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local id = district .. '-p' .. redis.call('INCR', KEYS[2])
redis.call('HSET', prefix .. 'pair:' .. id, 'id', id, 'district', district,
           'volunteer', ARGV[4], 'doc', ARGV[3], 'active', '1', 'create_ms', now_ms)
redis.call('SET', KEYS[1], id)
redis.call('SADD', KEYS[4], id)
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'type', 'pairing.created',
           'pairing', id, 'volunteer', ARGV[4], 'community', ARGV[6], 'actor', ARGV[7])
return reply('created', id)
