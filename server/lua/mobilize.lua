-- Starts an operator broadcast (after dispatch_lib.lua): creates the request that
-- tracks it (channel OPERATOR, headcount = needed). The offers follow through
-- make_offers.lua. Idempotent on the client's key.
--
-- KEYS[1] idempotency record {d:X}:idem:mob:<key>  (hash: id, mob, sha)
-- ARGV[4] district, 5 idempotency key, 6 request content document (JSON), 7 category,
--   8 community id, 9 needed, 10 idempotency TTL seconds, 11 operator (token id),
--   12 fingerprint of the whole call (what a replay must match)
-- Returns {outcome "created" | "replayed", mobilization id, request fields}.
local district = ARGV[4]
local seen = redis.call('HMGET', KEYS[1], 'id', 'mob', 'sha')
if seen[1] then
  if seen[3] ~= ARGV[12] then
    return fail('INVALID_ARGUMENT', 'idempotency_key: was already used for a different mobilisation')
  end
  return {'replayed', seen[2], redis.call('HGETALL', P .. 'req:' .. seen[1])}
end
local seq = redis.call('INCR', P .. 'seq:req')
local id = district .. '-' .. seq
local mob = district .. '-m' .. redis.call('INCR', P .. 'seq:mob')
redis.call('HSET', P .. 'req:' .. id,
           'id', id, 'district', district, 'request_id', ARGV[5], 'seq', seq,
           'doc', ARGV[6], 'state', 'SUBMITTED', 'channel', 'OPERATOR', 'category', ARGV[7],
           'urgency', 'CRISIS', 'community', ARGV[8], 'create_ms', NOW, 'update_ms', NOW,
           'headcount', ARGV[9], 'round', 0, 'n_assigned', 0, 'mob', mob, 'by', ARGV[11])
redis.call('ZADD', P .. 'reqs', seq, id)
-- Should the broadcast not go out (the instance died), the leader escalates it.
redis.call('ZADD', P .. 'due', NOW + 5000, id)
redis.call('HSET', KEYS[1], 'id', id, 'mob', mob, 'sha', ARGV[12])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[10]))
event('type', 'mobilization.started', 'request', id, 'mobilization_id', mob,
      'needed', ARGV[9], 'operator', ARGV[11])
return {'created', mob, redis.call('HGETALL', P .. 'req:' .. id)}
