-- Lists the records of an index in ascending order, filtered, from a cursor, looking
-- at a bounded number of records per call so one call never blocks Redis for long.
--
-- KEYS[1] index (zset: seq -> id), e.g. {d:X}:vols
-- ARGV: 1 record key prefix, e.g. "{d:X}:vol:", 2 cursor: list records with seq above
--       it ("-inf" from the start), 3 page size, 4 most records to examine,
--       5.. filters as triples (hash field, op, value), op one of
--         "eq"  the field equals the value,
--         "has" the field (",a,b,") contains the value,
--         "in"  the value (",a,b,") contains the field.
-- Returns {next cursor or "", n, then n times: field count, hash fields...}.
local prefix, cursor = ARGV[1], ARGV[2]
local page, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local filters = {}
for i = 5, #ARGV, 3 do
  filters[#filters + 1] = {ARGV[i], ARGV[i + 1], ARGV[i + 2]}
end
local names = {}
for i, f in ipairs(filters) do names[i] = f[1] end

local function matches(values)
  for i, f in ipairs(filters) do
    local v, op, want = values[i], f[2], f[3]
    if not v then return false end
    if op == 'eq' then
      if v ~= want then return false end
    elseif op == 'has' then
      if not string.find(v, ',' .. want .. ',', 1, true) then return false end
    elseif op == 'in' then
      if not string.find(want, ',' .. v .. ',', 1, true) then return false end
    else
      return redis.error_reply('INTERNAL unknown filter op ' .. op)
    end
  end
  return true
end

local out = {'', 0}
local found, examined = 0, 0
local min = cursor == '-inf' and '-inf' or ('(' .. cursor)
local last_seq = nil
while found < page and examined < budget do
  local chunk = math.min(256, budget - examined)
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf', 'WITHSCORES', 'LIMIT', 0, chunk)
  if #ids == 0 then
    out[2] = found
    return out
  end
  for i = 1, #ids, 2 do
    local key = prefix .. ids[i]
    examined = examined + 1
    last_seq = ids[i + 1]
    local ok = true
    if #names > 0 then ok = matches(redis.call('HMGET', key, unpack(names))) end
    if ok then
      local fields = redis.call('HGETALL', key)
      if #fields > 0 then
        out[#out + 1] = #fields
        for j = 1, #fields do out[#out + 1] = fields[j] end
        found = found + 1
        if found == page then break end
      end
    end
  end
  min = '(' .. last_seq
  if #ids < 2 * chunk and found < page then
    out[2] = found
    return out
  end
end
out[1], out[2] = last_seq, found
return out
