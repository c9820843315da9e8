-- An operator's override (after dispatch_lib.lua): assigns a volunteer or unit by
-- hand, or moves an assignment from one assignee to another (or back to matching).
-- Audited: the event names the operator and the reason.
--
-- KEYS[1] request hash {d:X}:req:<id>
-- ARGV[4] request id, 5 to kind "v"|"u"|"" (none: back to matching), 6 to id,
--   7 reason, 8 operator (token id), 9 force "1"|"0" (skip duty/capacity checks),
--   10 from kind ("" for a manual assignment), 11 from id
-- Returns {released assignment fields, new assignment fields}.
local req, to_kind, to_id, from_kind, from_id = ARGV[4], ARGV[5], ARGV[6], ARGV[10], ARGV[11]
local r = redis.call('HMGET', KEYS[1], 'id', 'state', 'headcount', 'n_assigned', 'round')
if not r[1] then return fail('NOT_FOUND', 'no such request') end
if not OPEN[r[2]] then return fail('FAILED_PRECONDITION', 'the request is ' .. r[2]) end
if from_kind ~= '' and not holds(req, from_kind, from_id) then
  return fail('FAILED_PRECONDITION', 'from_assignee: is not a current assignee of the request')
end
if to_kind ~= '' then
  if redis.call('EXISTS', who_key(to_kind, to_id)) == 0 then
    return fail('NOT_FOUND', 'no such ' .. who_field(to_kind))
  end
  if standing(req, to_kind, to_id) then
    return fail('FAILED_PRECONDITION', 'already assigned to this request')
  end
  local staffed = tonumber(r[4] or '0')
  if from_kind ~= '' then staffed = staffed - 1 end
  if staffed >= tonumber(r[3] or '1') then
    return fail('FAILED_PRECONDITION', 'the request is fully staffed')
  end
  if ARGV[9] ~= '1' then
    local why = unfit(to_kind, to_id)
    if why then return fail('FAILED_PRECONDITION', why .. ' (set force to override)') end
  end
end
if r[2] == 'ESCALATED' then
  redis.call('HSET', KEYS[1], 'state', 'SUBMITTED', 'round_base', r[5] or '0')
  redis.call('ZREM', P .. 'esc', req)
end
local released = {}
if from_kind ~= '' then
  release(req, from_kind, from_id, 'reassigned')
  redis.call('SADD', P .. 'rexcl:' .. req, from_kind .. ':' .. from_id)
  released = redis.call('HGETALL', asg_key(req, from_kind, from_id))
end
local assigned = {}
if to_kind ~= '' then
  local key = assign(req, to_kind, to_id, '', ARGV[8], ARGV[7])
  assigned = redis.call('HGETALL', key)
end
if from_kind ~= '' then
  event('type', 'request.reassigned', 'request', req, who_field(to_kind), to_id,
        'from', from_kind .. ':' .. from_id, 'operator', ARGV[8], 'reason', ARGV[7])
else
  event('type', 'request.assigned_manually', 'request', req, who_field(to_kind), to_id,
        'operator', ARGV[8], 'reason', ARGV[7])
end
settle(req)
return {released, assigned}
