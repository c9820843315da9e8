-- Cancels an open request atomically.
--
-- KEYS[1] request hash {d:X}:req:<id>
-- KEYS[2] event stream {d:X}:events
-- ARGV: 1 reason, 2 states that may be cancelled (",A,B,"), 3 event stream max
--       length, 4 who cancelled (token id)
-- Returns {outcome, hash fields...}; outcome "cancelled", or "unchanged" when the
-- request already was cancelled. NOT_FOUND / FAILED_PRECONDITION as errors.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return redis.error_reply('NOT_FOUND no such request')
end
local function reply(outcome)
  local fields = redis.call('HGETALL', KEYS[1])
  table.insert(fields, 1, outcome)
  return fields
end
if state == 'CANCELLED' then return reply('unchanged') end
if not string.find(ARGV[2], ',' .. state .. ',', 1, true) then
  return redis.error_reply('FAILED_PRECONDITION the request is ' .. state .. ' and can no longer be cancelled')
end
local t = redis.call('TIME')
local now_ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('HSET', KEYS[1], 'state', 'CANCELLED', 'cancel_reason', ARGV[1],
           'update_ms', now_ms)
local open_key = redis.call('HGET', KEYS[1], 'open_key')
if open_key and redis.call('GET', open_key) == id then
  redis.call('DEL', open_key)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'type', 'request.cancelled',
           'request', id, 'from_state', state, 'by', ARGV[4])
return reply('cancelled')
