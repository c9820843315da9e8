-- Stores a location fix of an on-duty volunteer or an active van, unless it is older
-- than the stored one, and feeds it to other instances' live indexes. No domain event.
--
-- KEYS[1] volunteer hash {d:X}:vol:<id> or unit hash {d:X}:unit:<id>
-- KEYS[2] location feed  {d:X}:locs
-- KEYS[3] for volunteers the on-duty set {d:X}:onduty, for units the placed units
--         {d:X}:placed: what the live index is built from
-- ARGV: 1 "v" (volunteer) or "u" (unit), 2 lat, 3 lng, 4 fix time ms ("0" = now),
--       5 location feed max length, 6 for units: the crew member reporting ("" = any)
-- Returns {1, revision, fix ms} when stored, {0} when ignored. NOT_FOUND for an unknown id; INVALID_ARGUMENT for a unit that
-- is not a van; PERMISSION_DENIED for a reporter who is not in the van's crew.
local kind, lat, lng = ARGV[1], ARGV[2], ARGV[3]
local fix_ms = tonumber(ARGV[4])
local now_fix = fix_ms == 0
if now_fix then
  local t = redis.call('TIME')
  fix_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local id, loc_ms
if kind == 'v' then
  local f = redis.call('HMGET', KEYS[1], 'id', 'duty', 'loc_ms')
  if not f[1] then return redis.error_reply('NOT_FOUND no such volunteer') end
  if f[2] ~= 'ON' and f[2] ~= 'BUSY' then return {0} end
  id, loc_ms = f[1], tonumber(f[3]) or 0
else
  local f = redis.call('HMGET', KEYS[1], 'id', 'kind', 'active', 'members', 'loc_ms')
  if not f[1] then return redis.error_reply('NOT_FOUND no such unit') end
  if f[2] ~= 'VAN' then
    return redis.error_reply('INVALID_ARGUMENT unit_id: ' .. f[1] .. ' is not a van')
  end
  if ARGV[6] ~= '' and not string.find(f[4] or '', ',' .. ARGV[6] .. ',', 1, true) then
    return redis.error_reply('PERMISSION_DENIED ' .. ARGV[6] .. ' is not in the crew of ' .. f[1])
  end
  if f[3] ~= '1' then return {0} end
  id, loc_ms = f[1], tonumber(f[5]) or 0
end
-- A fix taken "now" is newer than anything stored, even within the same millisecond;
-- a device's own fix time must be later than the stored one.
if now_fix and fix_ms <= loc_ms then fix_ms = loc_ms + 1 end
if fix_ms <= loc_ms then return {0} end

local ms = string.format('%d', fix_ms)
redis.call('HSET', KEYS[1], 'lat', lat, 'lng', lng, 'loc_ms', ms)
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('SADD', KEYS[3], id)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'k', kind, 'id', id,
           'lat', lat, 'lng', lng, 'ms', ms, 'rev', rev)
return {1, rev, ms}
