-- Adjusts a volunteer's points or tops up the fund (after dispatch_lib.lua and
-- points_lib.lua). delta > 0: ADJUST fund -> volunteer; delta < 0: ADJUST volunteer ->
-- fund; top-up: FUND external -> fund. Whenever the fund gains, waiting earnings are
-- paid, oldest first. A replayed idempotency key returns the first result.
--
-- ARGV[4] idempotency key, 5 volunteer id ("" for a top-up), 6 delta, 7 reason,
--   8 "1" for a fund top-up, 9 actor (token id)
-- Returns points_reply (points_lib.lua).
local key, vol, delta, reason, top_up = ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local sha = redis.sha1hex(table.concat({'adjust', vol, ARGV[6], reason, top_up}, '\n'))
local seen = first_result(key, sha)
if seen == false then
  return fail('INVALID_ARGUMENT', 'request_id: was already used for a different request')
end
if seen then return points_reply('replayed', seen) end
local extra = {reason = reason, key = key, actor = ARGV[9]}
local e, have, account
if top_up == '1' then
  account = 'fund'
  e = post('FUND', 'external', 'fund', delta, extra)
else
  if redis.call('EXISTS', P .. 'vol:' .. vol) == 0 then
    return fail('NOT_FOUND', 'no such volunteer: ' .. vol)
  end
  account = 'volunteer:' .. vol
  if delta > 0 then
    e, have = post('ADJUST', 'fund', account, delta, extra)
    if not e then
      return fail('FAILED_PRECONDITION', '{FUND_EXHAUSTED} the fund holds only ' .. have .. ' points, needs ' .. delta)
    end
  else
    e, have = post('ADJUST', account, 'fund', -delta, extra)
    if not e then
      return fail('FAILED_PRECONDITION', '{INSUFFICIENT_POINTS} insufficient points: balance ' .. have .. ', needs ' ..
                  -delta)
    end
  end
end
pay_waiting()
return points_reply('written', remember(key, sha, e.id, account, -1))
