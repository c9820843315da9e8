-- Reverses a redemption in full (after dispatch_lib.lua and points_lib.lua): one
-- REVERSAL entry kiosk -> volunteer, the redemption marked as reversed and, if asked,
-- the items put back into stock, all in this one step. A replayed idempotency key
-- returns the first result.
--
-- ARGV[4] idempotency key, 5 the REDEEM entry id, 6 reason, 7 "1" to restock,
--   8 actor (token id), 9 the caller's kiosk ("" unless a KIOSK token: it may reverse
--   only its own kiosk's redemptions)
-- Returns points_reply (points_lib.lua).
local key, id, reason, restock = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local sha = redis.sha1hex(table.concat({'reverse', id, reason, restock}, '\n'))
local seen = first_result(key, sha)
if seen == false then
  return fail('INVALID_ARGUMENT', 'request_id: was already used for a different request')
end
if seen then return points_reply('replayed', seen) end
local e = entry_of(id)
if not e then return fail('NOT_FOUND', 'no such ledger entry: ' .. id) end
if ARGV[9] ~= '' and e.to ~= 'kiosk:' .. ARGV[9] then
  return fail('PERMISSION_DENIED', 'the redemption was not made at kiosk ' .. ARGV[9])
end
if e.kind ~= 'REDEEM' then
  return fail('FAILED_PRECONDITION', '{NOT_A_REDEMPTION} ' .. id .. ' is a ' .. e.kind .. ' entry, not a redemption')
end
if e.revby then return fail('FAILED_PRECONDITION', '{ALREADY_REVERSED} ' .. id .. ' was already reversed by ' .. e.revby) end
local r, have = post('REVERSAL', e.to, e.from, tonumber(e.amount),
                     {item = e.item, qty = e.qty, price = e.price, rev = e.id, reason = reason,
                      key = key, actor = ARGV[8]})
if not r then
  return fail('FAILED_PRECONDITION', '{INSUFFICIENT_POINTS} ' .. e.to .. ' holds only ' .. have .. ' points')
end
redis.call('HSET', P .. 'led:' .. string.match(id, '(%d+)$'), 'revby', r.id)
local ik = item_key(e)
local stock = tonumber(redis.call('HGET', ik, 'stock') or '-1')
if restock == '1' and stock >= 0 then
  stock = redis.call('HINCRBY', ik, 'stock', tonumber(e.qty))
  redis.call('HSET', ik, 'update_ms', NOW)
end
return points_reply('written', remember(key, sha, r.id, e.from, stock))
