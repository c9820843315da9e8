-- Lists ledger entries newest first, filtered, from a cursor, looking at a bounded
-- number of entries per call so one call never blocks Redis for long.
--
-- KEYS[1] index: {d:X}:ledger (every entry) or {d:X}:ledacct:<account>
-- ARGV: 1 key prefix "{d:X}:", 2 cursor: entries numbered below it ("+inf" from the
--       newest), 3 page size, 4 most entries to examine, 5 kinds ",EARN,REDEEM," (""
--       for all), 6 only entries at or after this ms (0: no bound), 7 only entries
--       before this ms (0: no bound). Entries are numbered in the order they were
--       written, so the scan stops at the first entry older than ARGV[6].
-- Returns {next cursor or "", n, then n times: field count, hash fields...}.
local prefix, cursor = ARGV[1], ARGV[2]
local page, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local kinds, from_ms, to_ms = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local max = '(' .. cursor
if cursor == '+inf' then max = '+inf' end
local out, found, examined, last = {'', 0}, 0, 0, nil
local function done(next_cursor)
  out[1], out[2] = next_cursor, found
  return out
end
while true do
  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'LIMIT', 0, 100)
  if #ids == 0 then return done('') end
  for _, n in ipairs(ids) do
    local flat = redis.call('HGETALL', prefix .. 'led:' .. n)
    local e = {}
    for i = 1, #flat, 2 do e[flat[i]] = flat[i + 1] end
    local ms = tonumber(e.ms or '0')
    if from_ms > 0 and ms < from_ms then return done('') end
    if (kinds == '' or string.find(kinds, ',' .. (e.kind or '') .. ',', 1, true)) and
       (to_ms == 0 or ms < to_ms) then
      found = found + 1
      table.insert(out, #flat)
      for _, v in ipairs(flat) do table.insert(out, v) end
    end
    examined = examined + 1
    last = n
    if found == page or examined >= budget then return done(last) end
  end
  max = '(' .. last
end
