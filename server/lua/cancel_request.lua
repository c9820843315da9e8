-- Cancels an open request atomically (after dispatch_lib.lua): withdraws its pending
-- offers and releases its assignments.
--
-- KEYS[1] request hash {d:X}:req:<id>
-- ARGV[4] reason, 5 states that may be cancelled (",A,B,"), 6 who cancelled (token id)
-- Returns {outcome, hash fields...}; outcome "cancelled", or "unchanged" when the
-- request already was cancelled. NOT_FOUND / FAILED_PRECONDITION as errors.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return fail('NOT_FOUND', 'no such request')
end
local function reply(outcome)
  local fields = redis.call('HGETALL', KEYS[1])
  table.insert(fields, 1, outcome)
  return fields
end
if state == 'CANCELLED' then return reply('unchanged') end
if not string.find(ARGV[5], ',' .. state .. ',', 1, true) then
  return fail('FAILED_PRECONDITION', 'the request is ' .. state .. ' and can no longer be cancelled')
end
local id = redis.call('HGET', KEYS[1], 'id')
withdraw_pending(id, nil, 'cancelled')
for _, w in ipairs(split(redis.call('HGET', KEYS[1], 'assignees'))) do
  local kind, who = string.match(w, '^(%a):(.+)$')
  if holds(id, kind, who) then release(id, kind, who, 'cancelled') end
end
redis.call('HSET', KEYS[1], 'state', 'CANCELLED', 'cancel_reason', ARGV[4], 'update_ms', NOW)
redis.call('ZREM', P .. 'due', id)
redis.call('ZREM', P .. 'esc', id)
local open_key = redis.call('HGET', KEYS[1], 'open_key')
if open_key and redis.call('GET', open_key) == id then
  redis.call('DEL', open_key)
end
event('type', 'request.cancelled', 'request', id, 'from_state', state, 'by', ARGV[6])
return reply('cancelled')
