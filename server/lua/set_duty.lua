-- Changes a volunteer's duty status (and location), keeping the on-duty set that the
-- live index is built from in step (after dispatch_lib.lua). Going off duty withdraws
-- the volunteer's pending offers; their requests move on to the next candidate.
--
-- KEYS[1] volunteer hash {d:X}:vol:<id>
-- KEYS[2] on-duty set    {d:X}:onduty
-- KEYS[3] event stream   {d:X}:events
-- KEYS[4] location feed  {d:X}:locs
-- ARGV[4] status OFF|ON|BUSY, 5 lat or "" (no location given), 6 lng,
--   7 location feed max length, 8 actor (token id)
-- Returns {outcome, hash fields...}: outcome "changed", "located" (same status, new
-- location) or "unchanged". NOT_FOUND for an unknown volunteer.
local status, lat, lng = ARGV[4], ARGV[5], ARGV[6]
local cur = redis.call('HMGET', KEYS[1], 'id', 'duty')
if not cur[1] then return redis.error_reply('NOT_FOUND no such volunteer') end
local id = cur[1]
local now_ms = tostring(NOW)

local function reply(outcome)
  local fields = redis.call('HGETALL', KEYS[1])
  table.insert(fields, 1, outcome)
  return fields
end

local function locate()
  redis.call('HSET', KEYS[1], 'lat', lat, 'lng', lng, 'loc_ms', now_ms)
  return redis.call('HINCRBY', KEYS[1], 'rev', 1)
end

if status == cur[2] then
  if status == 'OFF' or lat == '' then return reply('unchanged') end
  local rev = locate()
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'k', 'v', 'id', id,
             'lat', lat, 'lng', lng, 'ms', now_ms, 'rev', rev)
  return reply('located')
end

if status == 'OFF' then
  redis.call('HDEL', KEYS[1], 'lat', 'lng', 'loc_ms')
  redis.call('SREM', KEYS[2], id)
  for _, oid in ipairs(redis.call('SMEMBERS', P .. 'apending:v:' .. id)) do
    local o = hmap(P .. 'offer:' .. oid)
    if o.id then
      finish_offer(o, 'WITHDRAWN', {dr = 'off duty'})
      settle(o.req)
    end
  end
elseif lat ~= '' then
  locate()
  redis.call('SADD', KEYS[2], id)
elseif redis.call('HEXISTS', KEYS[1], 'lat') == 1 then
  redis.call('SADD', KEYS[2], id)
end
redis.call('HSET', KEYS[1], 'duty', status, 'update_ms', now_ms)
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
event('type', 'volunteer.duty', 'volunteer', id, 'status', status, 'from', cur[2],
      'actor', ARGV[8], 'rev', rev)
return reply('changed')
