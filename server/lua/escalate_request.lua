-- Puts a request into the operator queue (after dispatch_lib.lua), withdrawing its
-- pending offers. Assignments it already has stay.
--
-- KEYS[1] request hash {d:X}:req:<id>
-- ARGV[4] request id, 5 expected round or "" (any: a manual escalation), 6 reason
--   (NO_CANDIDATE, ROUNDS_EXHAUSTED, SLA_BREACHED, NO_SHOW, MANUAL), 7 detail, 8 by
-- Returns {outcome "escalated" | "unchanged", request fields}. ABORTED when the round
-- moved on or the request is fully staffed.
local req = ARGV[4]
if not fence_ok(ARGV[3]) then return fail('ABORTED', 'leader lease lost') end
local r = redis.call('HMGET', KEYS[1], 'id', 'state', 'round', 'urgency', 'create_ms',
                    'headcount', 'n_assigned')
if not r[1] then return fail('NOT_FOUND', 'no such request') end
if r[2] == 'ESCALATED' then return {'unchanged', redis.call('HGETALL', KEYS[1])} end
if not OPEN[r[2]] then return fail('FAILED_PRECONDITION', 'the request is ' .. r[2]) end
if ARGV[5] ~= '' and tonumber(r[3] or '0') ~= tonumber(ARGV[5]) then
  return fail('ABORTED', 'the request is in round ' .. (r[3] or '0'))
end
-- The dispatcher decides to escalate on a snapshot of a request short of helpers; an
-- operator may have staffed it since without moving the round (AssignManually). The
-- round check above lets that through, and a staffed request in the operator queue
-- would stay ESCALATED through its completion. Someone else acted first.
if tonumber(r[7] or '0') >= tonumber(r[6] or '1') then
  return fail('ABORTED', 'the request is fully staffed')
end
withdraw_pending(req, nil, 'escalated')
redis.call('HSET', KEYS[1], 'state', 'ESCALATED', 'esc_reason', ARGV[6], 'esc_detail', ARGV[7],
           'esc_ms', NOW, 'esc_by', ARGV[8], 'update_ms', NOW)
-- CRISIS first, then URGENT, then ROUTINE; within one, longest waiting first.
local rank = ({CRISIS = 0, URGENT = 1, ROUTINE = 2})[r[4]] or 2
redis.call('ZADD', P .. 'esc', rank * 1e13 + tonumber(r[5] or NOW), req)
redis.call('ZREM', P .. 'due', req)
event('type', 'request.escalated', 'request', req, 'reason', ARGV[6], 'detail', ARGV[7],
      'by', ARGV[8])
return {'escalated', redis.call('HGETALL', KEYS[1])}
