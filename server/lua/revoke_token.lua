-- Marks a token revoked.
--
-- KEYS[1] token index {yiyuan}:tokens (hash: token id -> sha256 hex)
-- ARGV: 1 token id, 2 key prefix "{yiyuan}:token:"
-- Returns the record's fields (HGETALL order). NOT_FOUND for an unknown id.
local sha = redis.call('HGET', KEYS[1], ARGV[1])
if not sha then return redis.error_reply('NOT_FOUND no token with id ' .. ARGV[1]) end
local key = ARGV[2] .. sha
redis.call('HSET', key, 'revoked', '1')
return redis.call('HGETALL', key)
