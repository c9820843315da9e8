-- Lists a kiosk's catalog in item id order from a position, skipping inactive items
-- unless asked, looking at a bounded number of items per call.
--
-- KEYS[1] {d:X}:items:<kiosk>   (zset, every score 0: ordered by item id)
-- ARGV: 1 item key prefix "{d:X}:item:<kiosk>:", 2 position to start from (0 first),
--       3 page size, 4 most items to examine, 5 "1" to include inactive items
-- Returns {next position or "", n, then n times: field count, hash fields...};
-- NOT_FOUND when the kiosk has no catalog.
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('NOT_FOUND no such kiosk') end
local prefix, pos = ARGV[1], tonumber(ARGV[2])
local page, budget, all = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local ids = redis.call('ZRANGE', KEYS[1], pos, pos + budget - 1)
local out, found = {'', 0}, 0
local function done(next_cursor)
  out[1], out[2] = next_cursor, found
  return out
end
for i, id in ipairs(ids) do
  local flat = redis.call('HGETALL', prefix .. id)
  local active = false
  for j = 1, #flat, 2 do
    if flat[j] == 'active' then active = flat[j + 1] == '1' end
  end
  if all or active then
    found = found + 1
    table.insert(out, #flat)
    for _, v in ipairs(flat) do table.insert(out, v) end
    if found == page then
      if redis.call('ZCARD', KEYS[1]) > pos + i then return done(tostring(pos + i)) end
      return done('')
    end
  end
end
if #ids < budget then return done('') end
return done(tostring(pos + #ids))
