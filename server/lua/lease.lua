-- Takes, renews or gives up the district's leader lease (after dispatch_lib.lua). The
-- token grows with every new holder; scripts the leader runs check it (fence_ok), so a
-- leader that paused past its lease cannot act on stale decisions.
--
-- KEYS[1] lease {d:X}:lease
-- ARGV[4] owner (instance id), 5 lease ms, 6 "hold" | "release"
-- Returns {token, holder}: token 0 when someone else holds the lease.
local owner = ARGV[4]
local cur = redis.call('GET', KEYS[1])
local token, holder
if cur then token, holder = string.match(cur, '^(%d+) (.*)$') end
if ARGV[6] == 'release' then
  if cur and holder == owner then redis.call('DEL', KEYS[1]) end
  return {0, ''}
end
if cur and holder == owner then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {tonumber(token), owner}
end
if cur then return {0, holder} end
local t = redis.call('INCR', P .. 'fence')
redis.call('SET', KEYS[1], t .. ' ' .. owner, 'PX', ARGV[5])
return {t, owner}
