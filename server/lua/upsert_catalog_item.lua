-- Creates a kiosk's catalog item or changes some of its fields (after dispatch_lib.lua
-- and points_lib.lua). Stock may be set or moved by a delta atomically; it never goes
-- below 0.
--
-- ARGV[4] kiosk id, 5 item id, 6 "all" (create or replace every field) or "some",
--   7 stock delta, 8 actor, 9.. field/value pairs to set (name desc price stock active)
-- Returns {outcome "created" | "updated", item hash fields}.
local kiosk, item, mode, delta = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local key = P .. 'item:' .. kiosk .. ':' .. item
local exists = redis.call('EXISTS', key) == 1
if not exists and mode ~= 'all' then
  return fail('NOT_FOUND', 'no such item at kiosk ' .. kiosk .. ': ' .. item ..
              ' (create it with an empty update_mask)')
end
local stock = tonumber(redis.call('HGET', key, 'stock') or '0')
for i = 9, #ARGV, 2 do
  if ARGV[i] == 'stock' then stock = tonumber(ARGV[i + 1]) end
end
if stock + delta < 0 then
  return fail('FAILED_PRECONDITION', '{OUT_OF_STOCK} stock_delta ' .. delta .. ' would leave ' .. (stock + delta) ..
              ' in stock')
end
local fields = {'update_ms', NOW, 'stock', stock + delta}
for i = 9, #ARGV, 2 do
  if ARGV[i] ~= 'stock' then
    table.insert(fields, ARGV[i])
    table.insert(fields, ARGV[i + 1])
  end
end
if not exists then
  for _, v in ipairs({'kiosk', kiosk, 'item', item, 'create_ms', NOW}) do table.insert(fields, v) end
  redis.call('SADD', P .. 'kiosks', kiosk)
  redis.call('ZADD', P .. 'items:' .. kiosk, 0, item)
  redis.call('HSETNX', P .. 'acct:kiosk:' .. kiosk, 'points', 0)
end
redis.call('HSET', key, unpack(fields))
event('type', 'catalog.item', 'kiosk', kiosk, 'item', item, 'stock', stock + delta,
      'actor', ARGV[8])
local reply = redis.call('HGETALL', key)
table.insert(reply, 1, exists and 'updated' or 'created')
return reply
