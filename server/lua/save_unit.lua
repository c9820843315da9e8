-- Creates a unit, or replaces a unit's description if nobody changed it since it was
-- read, keeping team memberships (each member's "teams" field) and the set of placed
-- units (active and located: what the live index holds) in step.
--
-- KEYS[1] unit sequence {d:X}:seq:unit
-- KEYS[2] unit index    {d:X}:units  (zset: seq -> id)
-- KEYS[3] placed units  {d:X}:placed
-- KEYS[4] event stream  {d:X}:events
-- The unit hash {d:X}:unit:<id> is named from ARGV[1] once the id is known.
--
-- ARGV: 1 key prefix "{d:X}:", 2 district, 3 mode "create" or "update",
--       4 unit id ("" on create = server-assigned "<district>-u<n>"),
--       5 revision read (update only), 6 unit document (canonical JSON), 7 kind,
--       8 community, 9 active "1"|"0", 10 members ",v1,v2,", 11 capability tokens,
--       12 capacity, 13 lat or "" (no location), 14 lng, 15 location changed "1"|"0",
--       16 event stream max length, 17 actor (token id)
-- Returns {"created"|"replayed"|"updated", hash fields...}. ALREADY_EXISTS when a
-- client-chosen id holds a different unit; NOT_FOUND for an unknown unit (update) or
-- member; ABORTED when the revision moved on.
local prefix, district, mode = ARGV[1], ARGV[2], ARGV[3]
local doc, kind, members, lat, lng = ARGV[6], ARGV[7], ARGV[10], ARGV[13], ARGV[14]
local sha = redis.sha1hex(doc)

local function reply(outcome, key)
  local fields = redis.call('HGETALL', key)
  table.insert(fields, 1, outcome)
  return fields
end

local function split(list)
  local out = {}
  for m in string.gmatch(list, '[^,]+') do out[#out + 1] = m end
  return out
end

local id = ARGV[4]
local key, old
if mode == 'create' then
  if id ~= '' then
    key = prefix .. 'unit:' .. id
    local seen = redis.call('HGET', key, 'sha')
    if seen then
      if seen == sha then return reply('replayed', key) end
      return redis.error_reply('ALREADY_EXISTS unit ' .. id .. ' exists with different details')
    end
  end
else
  key = prefix .. 'unit:' .. id
  old = redis.call('HMGET', key, 'rev', 'kind', 'members')
  if not old[1] then return redis.error_reply('NOT_FOUND no unit with id ' .. id) end
  if old[1] ~= ARGV[5] then
    return redis.error_reply('ABORTED the unit changed while it was being updated')
  end
end

for i, m in ipairs(split(members)) do
  if redis.call('EXISTS', prefix .. 'vol:' .. m) == 0 then
    return redis.error_reply('NOT_FOUND unit.member_volunteer_ids[' .. (i - 1) ..
                             ']: no volunteer with id ' .. m)
  end
end

local t = redis.call('TIME')
local now_ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local outcome = 'updated'
if mode == 'create' then
  local seq = redis.call('INCR', KEYS[1])
  if id == '' then
    id = district .. '-u' .. seq
    key = prefix .. 'unit:' .. id
  end
  redis.call('HSET', key, 'id', id, 'district', district, 'seq', seq, 'kind', kind,
             'create_ms', now_ms, 'active_n', 0, 'rev', 0)
  redis.call('ZADD', KEYS[2], seq, id)
  outcome = 'created'
end

-- Team membership: members removed lose the team, members added gain it.
if kind == 'TEAM' then
  local before = (old and old[3]) or ','
  for _, m in ipairs(split(before)) do
    if not string.find(members, ',' .. m .. ',', 1, true) then
      local vk = prefix .. 'vol:' .. m
      local teams = redis.call('HGET', vk, 'teams')
      if teams then
        local pos = string.find(teams, ',' .. id .. ',', 1, true)
        if pos then
          redis.call('HSET', vk, 'teams', string.sub(teams, 1, pos) .. string.sub(teams, pos + #id + 2))
          redis.call('HINCRBY', vk, 'rev', 1)
        end
      end
    end
  end
  for _, m in ipairs(split(members)) do
    local vk = prefix .. 'vol:' .. m
    local teams = redis.call('HGET', vk, 'teams') or ','
    if not string.find(teams, ',' .. id .. ',', 1, true) then
      redis.call('HSET', vk, 'teams', teams .. id .. ',')
      redis.call('HINCRBY', vk, 'rev', 1)
    end
  end
end

redis.call('HSET', key, 'doc', doc, 'sha', sha, 'community', ARGV[8], 'active', ARGV[9],
           'members', members, 'tokens', ARGV[11], 'capacity', ARGV[12], 'update_ms', now_ms)
if ARGV[15] == '1' then
  if lat == '' then
    redis.call('HDEL', key, 'lat', 'lng', 'loc_ms')
  else
    redis.call('HSET', key, 'lat', lat, 'lng', lng, 'loc_ms', now_ms)
  end
end
local rev = redis.call('HINCRBY', key, 'rev', 1)
if ARGV[9] == '1' and redis.call('HEXISTS', key, 'lat') == 1 then
  redis.call('SADD', KEYS[3], id)
else
  redis.call('SREM', KEYS[3], id)
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[16], '*', 'type', 'unit.' .. outcome,
           'unit', id, 'kind', kind, 'actor', ARGV[17], 'rev', rev)
return reply(outcome, key)
