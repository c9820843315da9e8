-- The dispatcher loop's look at one due request (after dispatch_lib.lua): expires its
-- overdue offers, settles its state, and returns what the dispatcher needs to decide
-- the next step. Only the district's leader calls it (fenced).
--
-- KEYS[1] request hash {d:X}:req:<id>
-- ARGV[4] request id
-- Returns {state or "gone", request fields, tried, declined, no-shows, excluded,
-- pending offer count, expired now}.
local req = ARGV[4]
if not fence_ok(ARGV[3]) then return fail('ABORTED', 'leader lease lost') end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', P .. 'due', req)
  return {'gone', {}, {}, {}, {}, {}, 0, 0}
end
local expired = 0
for _, oid in ipairs(redis.call('SMEMBERS', P .. 'rpend:' .. req)) do
  local o = hmap(P .. 'offer:' .. oid)
  if not o.id then
    redis.call('SREM', P .. 'rpend:' .. req, oid)
  elseif tonumber(o.expire_ms) <= NOW then
    finish_offer(o, 'EXPIRED')
    redis.call('HINCRBY', KEYS[1], 'n_expired', 1)
    expired = expired + 1
  end
end
local state = settle(req)
return {state, redis.call('HGETALL', KEYS[1]),
        redis.call('SMEMBERS', P .. 'rtried:' .. req),
        redis.call('SMEMBERS', P .. 'rdecl:' .. req),
        redis.call('SMEMBERS', P .. 'rnoshow:' .. req),
        redis.call('SMEMBERS', P .. 'rexcl:' .. req),
        redis.call('SCARD', P .. 'rpend:' .. req), expired}
