-- Applies one playback command to a party, atomically, on the Redis clock.
-- KEYS[1] = party:{party}:state   KEYS[2] = the party's media hash (video:{id})
-- ARGV[1] = command: state | play | pause | seek | rate | duration
-- ARGV[2] = its number (pause: the position the viewer saw, or -1; seek: position;
--           rate: rate; duration: duration), all in ms except the rate
-- ARGV[3] = display name of whoever sent it   ARGV[4] = play lead (ms)
-- ARGV[5] = pause tolerance (ms)   ARGV[6] = event channel   ARGV[7] = party id
-- Returns {changed (0/1), state frame JSON}. A change bumps seq, is stored, then published.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = redis.call('HGET', KEYS[2], 'start_ms')
if not start then
  return redis.error_reply('WW_NOT_FOUND the party has no media')
end
local raw = redis.call('HGETALL', KEYS[1])
local s = {}
for i = 1, #raw, 2 do s[raw[i]] = raw[i + 1] end
local seq = tonumber(s.seq or '0')
local paused = s.paused ~= '0'
local pos = tonumber(s.position_ms or start)
local anchor = tonumber(s.anchor_ms or now)
local rate = tonumber(s.rate or '1')
local dur = tonumber(s.duration_ms or '-1')
local by = s.updated_by or ''
local lead = tonumber(ARGV[4])

-- expected(t) = position + (paused ? 0 : max(0, t - anchor) * rate), within [0, duration]
local function expected(at)
  local p = pos
  if not paused and at > anchor then p = pos + (at - anchor) * rate end
  if p < 0 then p = 0 end
  if dur >= 0 and p > dur then p = dur end
  return math.floor(p + 0.5)
end

local cmd = ARGV[1]
local value = tonumber(ARGV[2])
local changed = seq == 0
if cmd == 'play' then
  if paused then
    pos = expected(now)
    if dur >= 0 and pos >= dur then pos = 0 end
    anchor = now + lead
    paused = false
    changed = true
  end
elseif cmd == 'pause' then
  if not paused then
    local e = expected(now)
    if value >= 0 and math.abs(value - e) <= tonumber(ARGV[5]) then pos = value else pos = e end
    anchor = now
    paused = true
    changed = true
  end
elseif cmd == 'seek' then
  pos = value
  if dur >= 0 and pos > dur then pos = dur end
  -- While playing, the jump is scheduled like a play, so every viewer restarts together.
  if paused then anchor = now else anchor = now + lead end
  changed = true
elseif cmd == 'rate' then
  if value ~= rate then
    if not paused then
      pos = expected(now)
      anchor = now
    end
    rate = value
    changed = true
  end
elseif cmd == 'duration' then
  if dur < 0 then
    dur = value
    if pos > dur then pos = dur end
    changed = true
  end
end

if changed then
  seq = seq + 1
  if cmd ~= 'duration' and cmd ~= 'state' then by = ARGV[3] end
  redis.call('HSET', KEYS[1], 'seq', seq, 'paused', paused and '1' or '0',
    'position_ms', pos, 'anchor_ms', anchor, 'rate', rate, 'duration_ms', dur, 'updated_by', by)
end
local duration = cjson.null
if dur >= 0 then duration = dur end
local frame = cjson.encode({type = 'state', state = {
  seq = seq, media = ARGV[7], paused = paused, position_ms = pos, anchor_ms = anchor,
  rate = rate, duration_ms = duration, updated_by = by }})
if changed and cmd ~= 'state' then
  redis.call('PUBLISH', ARGV[6], frame)
end
if changed then return {1, frame} end
return {0, frame}
