-- Records a step of an assignment (after dispatch_lib.lua). Progress only moves
-- forward; repeating the current step changes nothing.
--
-- KEYS[1] request hash {d:X}:req:<id>
-- ARGV[4] request id, 5 assignee kind "v"|"u" or "" (the request's only open
--   assignment), 6 assignee id, 7 step EN_ROUTE|ARRIVED|COMPLETED|RATED|NO_SHOW,
--   8 minutes served, 9 rating (0 none), 10 notes, 11 actor (token id),
--   12 the volunteer reporting ("" for a privileged caller), 13..18 what completing
--   earns a volunteer (points_lib.lua earn) by the request's urgency: ROUTINE points,
--   ROUTINE rule text, URGENT points, URGENT rule text, CRISIS points, CRISIS rule text
-- Returns {outcome "changed" | "unchanged", assignment fields, request state}.
local req, kind, id, step = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local r = redis.call('HMGET', KEYS[1], 'id', 'state', 'assignees', 'phone_hash', 'urgency')
if not r[1] then return fail('NOT_FOUND', 'no such request') end
if kind == '' then
  local open = {}
  for _, w in ipairs(split(r[3])) do
    local k, i = string.match(w, '^(%a):(.+)$')
    if holds(req, k, i) or step == 'RATED' then table.insert(open, {k, i}) end
  end
  if #open == 0 then
    return fail('FAILED_PRECONDITION', 'the request has no open assignment')
  end
  if #open > 1 then
    return fail('INVALID_ARGUMENT', 'assignee: required: the request has ' .. #open ..
                ' open assignments')
  end
  kind, id = open[1][1], open[1][2]
end
local key = asg_key(req, kind, id)
local a = hmap(key)
if not a.req then return fail('NOT_FOUND', 'no such assignment') end
if ARGV[12] ~= '' then
  local allowed = kind == 'v' and id == ARGV[12]
  if kind == 'u' then
    local u = redis.call('HMGET', who_key('u', id), 'members', 'doc')
    allowed = string.find(u[1] or '', ',' .. ARGV[12] .. ',', 1, true) ~= nil or
              (u[2] ~= nil and u[2] ~= false and cjson.decode(u[2]).leader == ARGV[12])
  end
  if not allowed then return fail('PERMISSION_DENIED', 'not your assignment') end
end
local function reply(outcome)
  return {outcome, redis.call('HGETALL', key), redis.call('HGET', KEYS[1], 'state')}
end
if a.release_ms then return fail('FAILED_PRECONDITION', 'the assignment was released') end
local RANK = {NONE = 0, EN_ROUTE = 1, ARRIVED = 2, COMPLETED = 3, RATED = 4}
local cur = RANK[a.progress] or 0
if step == 'NO_SHOW' then
  if cur >= 3 then return fail('FAILED_PRECONDITION', 'the assignment is completed') end
  release(req, kind, id, 'no_show')
  redis.call('HSET', key, 'progress_ms', NOW, 'notes', ARGV[10])
  redis.call('SADD', P .. 'rnoshow:' .. req, kind .. ':' .. id)
  redis.call('HINCRBY', who_key(kind, id), 'n_no_show', 1)
  event('type', 'progress', 'request', req, who_field(kind), id, 'kind', 'NO_SHOW',
        'actor', ARGV[11])
  settle(req)
  return reply('changed')
end
local want = RANK[step]
if want == cur then return reply('unchanged') end
if want < cur then
  return fail('FAILED_PRECONDITION', 'the assignment is already ' .. a.progress ..
              '; progress only moves forward')
end
if step == 'RATED' and cur < 3 then
  return fail('FAILED_PRECONDITION', 'only a completed assignment can be rated')
end
redis.call('HSET', key, 'progress', step, 'progress_ms', NOW)
if step == 'EN_ROUTE' then redis.call('HSET', key, 'en_route_ms', NOW) end
if step == 'ARRIVED' then redis.call('HSET', key, 'arrive_ms', NOW) end
if ARGV[10] ~= '' then redis.call('HSET', key, 'notes', ARGV[10]) end
if tonumber(ARGV[9]) > 0 then redis.call('HSET', key, 'rating', ARGV[9]) end
if step == 'COMPLETED' then
  redis.call('HSET', key, 'complete_ms', NOW, 'minutes', ARGV[8])
  local wk = who_key(kind, id)
  redis.call('HINCRBY', wk, 'n_completed', 1)
  redis.call('HINCRBY', wk, 'n_ended', 1)
  redis.call('HINCRBY', wk, 'minutes', tonumber(ARGV[8]))
  add_load(kind, id, -1)
  if kind == 'v' and r[4] and r[4] ~= '' then
    redis.call('SADD', P .. 'served:' .. r[4], id)
  end
  if kind == 'v' then
    local at = ({ROUTINE = 13, URGENT = 15, CRISIS = 17})[r[5]] or 13
    earn(req, id, tonumber(ARGV[at]), ARGV[at + 1])
  end
end
event('type', 'progress', 'request', req, who_field(kind), id, 'kind', step,
      'actor', ARGV[11])
local state = settle(req)
if step == 'RATED' and state == 'COMPLETED' then
  redis.call('HSET', KEYS[1], 'state', 'RATED', 'update_ms', NOW)
end
return reply('changed')
