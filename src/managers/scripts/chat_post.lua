-- Appends a chat message (or a system line) to a party's history and publishes it.
-- KEYS[1] = party:{party}:chat   KEYS[2] = party:{party}:chat_seq
-- KEYS[3] = party:{party}:chatrate:{user}   KEYS[4] = party:{party}:state
-- KEYS[5] = the party's record   KEYS[6] = its event channel
-- ARGV[1] = kind (user | system)   ARGV[2] = user id (0 for system lines)
-- ARGV[3] = the sender's name ('' for system lines)   ARGV[4] = text   ARGV[5] = messages kept
-- ARGV[6] = messages allowed per window (user messages)   ARGV[7] = window (s)
-- Returns {1, message JSON}, or {-1, seconds to wait} when the sender is over the rate.
-- The message carries the video position at which it was written, on the Redis clock.
local bad = counts(6, 7) or one_of(ARGV[1], 'the kind', { 'user', 'system' })
  or integer(ARGV[2], 'the user id', 0, ID_MAX) or short(ARGV[3], 'the name', 1024)
  or filled(ARGV[4], 'the text', 65536) or integer(ARGV[5], 'the messages kept', 1, 1000000)
  or integer(ARGV[6], 'the messages per window', 1, 1000000)
  or integer(ARGV[7], 'the window', 1, 1000000)
  or holds(KEYS[1], 'the chat', 'list') or holds(KEYS[2], 'the chat sequence', 'string')
  or holds(KEYS[3], 'the chat rate', 'string') or holds(KEYS[4], 'the party state', 'hash')
  or holds(KEYS[5], 'the party', 'hash')
if bad then return bad end
if (ARGV[1] == 'user') ~= (ARGV[2] ~= '0') then
  return invalid('a user message needs a user id, a system line none (0)')
end
local seq = redis.call('GET', KEYS[2])
if seq and not string.match(seq, '^%d+$') then return invalid('the chat sequence is not a number') end
local sent_before = redis.call('GET', KEYS[3])
if sent_before and not string.match(sent_before, '^%d+$') then
  return invalid('the chat rate is not a number')
end
if redis.call('EXISTS', KEYS[5]) == 0 then
  return redis.error_reply('WW_NOT_FOUND the party no longer exists')
end
local user = ARGV[1] == 'user'
if user then
  local sent = redis.call('INCR', KEYS[3])
  if sent == 1 then redis.call('EXPIRE', KEYS[3], tonumber(ARGV[7])) end
  if sent > tonumber(ARGV[6]) then
    return { -1, redis.call('TTL', KEYS[3]) }
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local raw = redis.call('HGETALL', KEYS[4])
local s = {}
for i = 1, #raw, 2 do s[raw[i]] = raw[i + 1] end
local position = tonumber(s.position_ms or '0')
if s.paused == '0' then
  local anchor = tonumber(s.anchor_ms)
  if now > anchor then position = position + (now - anchor) * tonumber(s.rate) end
end
local dur = tonumber(s.duration_ms or '-1')
if dur >= 0 and position > dur then position = dur end
local name = ARGV[3]
local message = {
  id = redis.call('INCR', KEYS[2]),
  kind = ARGV[1],
  user_id = tonumber(ARGV[2]),
  name = name,
  text = ARGV[4],
  position_ms = math.floor(position + 0.5),
  media = s.media or '',
  at_ms = now,
}
local json = cjson.encode(message)
redis.call('RPUSH', KEYS[1], json)
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[5]), -1)
redis.call('SPUBLISH', KEYS[6], cjson.encode({ type = 'chat', message = message }))
return { 1, json }
