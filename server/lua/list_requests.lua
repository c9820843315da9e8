-- Lists requests newest first, filtered, from a cursor, looking at a bounded number of
-- requests per call so one call never blocks Redis for long.
--
-- KEYS[1] request index {d:X}:reqs (zset: seq -> id)
-- ARGV: 1 key prefix "{d:X}:", 2 cursor: list requests with seq below it ("+inf" for
--       the newest), 3 page size, 4 most requests to examine, 5 states (",A,B," or ""),
--       6 channel, 7 category, 8 urgency, 9 community ("" = any),
--       10 created at or after (ms, 0 = any), 11 created before (ms, 0 = any)
-- Returns {next cursor or "", n, then n times: field count, hash fields...}.
local prefix, cursor = ARGV[1], ARGV[2]
local page, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local states, channel, category, urgency, community = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local after, before = tonumber(ARGV[10]), tonumber(ARGV[11])

local out = {'', 0}  -- Cursor and count are filled in at the end.
local found, examined = 0, 0
local max = cursor == '+inf' and '+inf' or ('(' .. cursor)
local last_seq = nil
while found < page and examined < budget do
  local chunk = math.min(256, budget - examined)
  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'WITHSCORES', 'LIMIT', 0, chunk)
  if #ids == 0 then
    out[2] = found
    return out
  end
  for i = 1, #ids, 2 do
    local key = prefix .. 'req:' .. ids[i]
    local f = redis.call('HMGET', key, 'state', 'channel', 'category', 'urgency', 'community', 'create_ms')
    examined = examined + 1
    last_seq = ids[i + 1]
    local created = tonumber(f[6]) or 0
    if f[1]
        and (states == '' or string.find(states, ',' .. f[1] .. ',', 1, true))
        and (channel == '' or channel == f[2])
        and (category == '' or category == f[3])
        and (urgency == '' or urgency == f[4])
        and (community == '' or community == f[5])
        and (after == 0 or created >= after)
        and (before == 0 or created < before) then
      local fields = redis.call('HGETALL', key)
      out[#out + 1] = #fields
      for j = 1, #fields do out[#out + 1] = fields[j] end
      found = found + 1
      if found == page then break end
    end
  end
  max = '(' .. last_seq
  if #ids < 2 * chunk and found < page then
    out[2] = found
    return out
  end
end
out[1], out[2] = last_seq, found
return out
