-- Redeems points for catalog items at a kiosk (after dispatch_lib.lua and
-- points_lib.lua): checks the item, its price and stock and the volunteer's balance,
-- then writes one REDEEM entry volunteer -> kiosk and takes the items from stock, all
-- in this one step. A replayed idempotency key returns the first result.
--
-- ARGV[4] idempotency key, 5 volunteer id, 6 kiosk id, 7 item id, 8 quantity,
--   9 the price per item the kiosk showed (0: not checked), 10 actor (token id)
-- Returns points_reply (points_lib.lua).
local key, vol, kiosk, item, qty, shown = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local sha = redis.sha1hex(table.concat({'redeem', vol, kiosk, item, qty, shown}, '\n'))
local seen = first_result(key, sha)
if seen == false then
  return fail('INVALID_ARGUMENT', 'request_id: was already used for a different request')
end
if seen then return points_reply('replayed', seen) end
if redis.call('EXISTS', P .. 'vol:' .. vol) == 0 then
  return fail('NOT_FOUND', 'no such volunteer: ' .. vol)
end
local it = hmap(P .. 'item:' .. kiosk .. ':' .. item)
if not it.item then
  if redis.call('SISMEMBER', P .. 'kiosks', kiosk) == 0 then
    return fail('NOT_FOUND', 'no such kiosk: ' .. kiosk)
  end
  return fail('NOT_FOUND', 'no such item at kiosk ' .. kiosk .. ': ' .. item)
end
if it.active ~= '1' then
  return fail('FAILED_PRECONDITION', '{ITEM_INACTIVE} the item is not available for redemption')
end
local price, n = tonumber(it.price), tonumber(qty)
if tonumber(shown) > 0 and tonumber(shown) ~= price then
  return fail('FAILED_PRECONDITION', '{PRICE_CHANGED} the price is now ' .. price .. ' points, not ' .. shown)
end
if tonumber(it.stock) < n then
  return fail('FAILED_PRECONDITION', '{OUT_OF_STOCK} out of stock: ' .. it.stock .. ' left, ' .. n .. ' asked')
end
local total = price * n
local e, have = post('REDEEM', 'volunteer:' .. vol, 'kiosk:' .. kiosk, total,
                     {item = item, qty = n, price = price, key = key, actor = ARGV[10]})
if not e then
  return fail('FAILED_PRECONDITION', '{INSUFFICIENT_POINTS} insufficient points: balance ' .. have .. ', needs ' .. total)
end
local stock = redis.call('HINCRBY', P .. 'item:' .. kiosk .. ':' .. item, 'stock', -n)
redis.call('HSET', P .. 'item:' .. kiosk .. ':' .. item, 'update_ms', NOW)
return points_reply('written', remember(key, sha, e.id, 'volunteer:' .. vol, stock))
