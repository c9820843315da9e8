-- Lists every token record.
--
-- KEYS[1] token index {yiyuan}:tokens (hash: token id -> sha256 hex)
-- ARGV: 1 key prefix "{yiyuan}:token:"
-- Returns {n, then n times: field count, fields...}.
local index = redis.call('HGETALL', KEYS[1])
local out = {0}
for i = 2, #index, 2 do
  local fields = redis.call('HGETALL', ARGV[1] .. index[i])
  if #fields > 0 then
    out[#out + 1] = #fields
    for j = 1, #fields do out[#out + 1] = fields[j] end
    out[1] = out[1] + 1
  end
end
return out
