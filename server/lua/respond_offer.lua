-- Accepts or declines an offer (after dispatch_lib.lua). The first acceptance wins;
-- capacity is checked in the same step, so it is never exceeded.
--
-- KEYS[1] offer hash {d:X}:offer:<offer id>
-- ARGV[4] offer id, 5 "accept"|"decline", 6 decline reason, 7 decline note,
--   8 the volunteer answering ("" for an operator answering on their behalf),
--   9 "1" when the caller may answer any offer (operator)
-- Returns {outcome, offer fields, assignment fields}; outcome "accepted", "declined"
-- or "replayed" (the same answer again), assignment fields empty unless accepted.
-- NOT_FOUND unknown offer; PERMISSION_DENIED not the offeree; FAILED_PRECONDITION with
-- a reason (google.rpc.ErrorInfo) an app can act on: OFFER_TAKEN (the request is fully
-- staffed), OFFER_CLOSED (withdrawn or answered differently), OFFER_EXPIRED,
-- REQUEST_CLOSED, NO_CAPACITY (the volunteer must finish or hand back an assignment).
local oid, answer, who_answers = ARGV[4], ARGV[5], ARGV[8]
local o = hmap(KEYS[1])
if not o.id then return fail('NOT_FOUND', 'no such offer') end
if ARGV[9] ~= '1' then
  if o.kind == 'v' and o.to ~= who_answers then
    return fail('PERMISSION_DENIED', 'the offer was made to another volunteer')
  end
  if o.kind == 'u' then
    local u = redis.call('HMGET', who_key('u', o.to), 'members', 'doc')
    local leader = u[2] and cjson.decode(u[2]).leader or ''
    if who_answers == '' or (leader ~= who_answers and
        not string.find(u[1] or '', ',' .. who_answers .. ',', 1, true)) then
      return fail('PERMISSION_DENIED', 'only a member or the leader of the unit may answer')
    end
  end
end

local function reply(outcome)
  local asg = {}
  local key = asg_key(o.req, o.kind, o.to)
  if o.state == 'ACCEPTED' then asg = redis.call('HGETALL', key) end
  return {outcome, redis.call('HGETALL', KEYS[1]), asg}
end

if o.state ~= 'PENDING' then
  if (o.state == 'ACCEPTED' and answer == 'accept') or (o.state == 'DECLINED' and answer == 'decline') then
    return reply('replayed')
  end
  if o.state == 'WITHDRAWN' and (o.dr == 'filled' or o.dr == 'assigned') then
    return fail('FAILED_PRECONDITION', '{OFFER_TAKEN} the offer was taken: the request is fully staffed')
  end
  return fail('FAILED_PRECONDITION', '{OFFER_CLOSED} the offer is ' .. string.lower(o.state))
end
if tonumber(o.expire_ms) <= NOW then
  finish_offer(o, 'EXPIRED')
  redis.call('HINCRBY', P .. 'req:' .. o.req, 'n_expired', 1)
  settle(o.req)
  return fail('FAILED_PRECONDITION', '{OFFER_EXPIRED} the offer has expired')
end

if answer == 'decline' then
  finish_offer(o, 'DECLINED', {dr = ARGV[6], note = ARGV[7], by = who_answers})
  redis.call('SADD', P .. 'rdecl:' .. o.req, o.kind .. ':' .. o.to)
  redis.call('HINCRBY', P .. 'req:' .. o.req, 'n_declined', 1)
  settle(o.req)
  return reply('declined')
end

local r = redis.call('HMGET', P .. 'req:' .. o.req, 'state', 'headcount', 'n_assigned')
if not OPEN[r[1]] or r[1] == 'ESCALATED' then
  return fail('FAILED_PRECONDITION', '{REQUEST_CLOSED} the request is ' .. (r[1] or 'gone'))
end
if tonumber(r[3] or '0') >= tonumber(r[2] or '1') then
  return fail('FAILED_PRECONDITION', '{OFFER_TAKEN} the offer was taken: the request is fully staffed')
end
-- Capacity whatever the duty status: an offer made before its volunteer went BUSY may
-- still be accepted, but never beyond capacity. (Asking unfit() here would answer "not
-- on duty" first for a BUSY volunteer and skip the capacity check.)
if full(o.kind, o.to) then
  return fail('FAILED_PRECONDITION', '{NO_CAPACITY} no capacity left: finish or hand back an assignment first')
end
finish_offer(o, 'ACCEPTED', {by = who_answers})
redis.call('HINCRBY', who_key(o.kind, o.to), 'n_answered', 1)
assign(o.req, o.kind, o.to, o.id, '', '')
event('type', 'request.assigned', 'request', o.req, who_field(o.kind), o.to, 'offer', o.id)
settle(o.req)
return reply('accepted')
