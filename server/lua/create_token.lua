-- Registers a bearer token (by its SHA-256) unless it exists already.
--
-- KEYS[1] token record  {yiyuan}:token:<sha256 hex>  (hash)
-- KEYS[2] token index   {yiyuan}:tokens  (hash: token id -> sha256 hex)
-- ARGV: 1 token id, 2 sha256 hex, 3 name, 4 role, 5 district, 6 kiosk id, 7 volunteer id
-- Returns the record's fields (HGETALL order), new or existing.
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
    return redis.error_reply('ALREADY_EXISTS token id collision; create another token')
  end
  local t = redis.call('TIME')
  local now_ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  redis.call('HSET', KEYS[1], 'token_id', ARGV[1], 'name', ARGV[3], 'role', ARGV[4],
             'district', ARGV[5], 'kiosk_id', ARGV[6], 'volunteer_id', ARGV[7],
             'create_ms', now_ms, 'revoked', '0')
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return redis.call('HGETALL', KEYS[1])
