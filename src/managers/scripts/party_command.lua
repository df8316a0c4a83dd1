-- Applies one command to a party, atomically, on the Redis clock.
-- KEYS[1] = party:{party}:state      KEYS[2] = the party's root hash (video:{id} or playlist:{id})
-- KEYS[3] = party:{party}:settings   KEYS[4] = party:{party}:controllers
-- KEYS[5] = playlist:{id}:items      KEYS[6] = playlist:{id}:order   (unused for videos)
-- ARGV[1] = command: state | play | pause | seek | rate | duration | skip | jump | ended | refresh
--           | hold (a viewer buffers: wait for them) | resume (everyone is ready again)
--           | unplayable (nobody watching can play the item: move on past it)
-- ARGV[2] = its number (pause: the position the viewer saw, or -1; seek: position; rate: rate;
--           duration: duration; jump / ended / unplayable: item id; refresh: the item to fall
--           back to)
-- ARGV[3] = display name of the sender   ARGV[4] = play lead (ms)   ARGV[5] = pause tolerance (ms)
-- ARGV[6] = the command's id ('user id:client id'; '' for none)   ARGV[7] = party id   ARGV[8] = sender's user id (0: the server)
-- ARGV[9] = party kind: video | playlist
-- KEYS[7] = party:{party}:chat   KEYS[8] = party:{party}:chat_seq
-- KEYS[9] = the party's event channel   KEYS[10] = party:{party}:cmds (recent command ids)
-- ARGV[10] = the chat's system line for this action ('' for none)
-- ARGV[11] = '1' to end that line with the position   ARGV[12] = chat messages kept
-- ARGV[13] = jump lead (ms): a seek or an item switch while playing starts this far ahead, so
--            every player has moved before they all start
-- ARGV[14] = the longest media accepted (ms): positions and durations lie within it
-- ARGV[15] = the shortest duration accepted (ms)
-- ARGV[16] = ended window (ms): `ended` counts only this close to the item's end
-- ARGV[17] = duration: the media the report is about ('' when the viewer did not say)
-- Reports (`duration`, `ended`) count only from viewers who may control; from anyone else
-- they are ignored ({0, frame}), as is a duration once known or for another media.
-- Returns {1, frame} after a change (stored, then published), {0, frame} when nothing changed,
-- {-1, code} when the command is refused (nothing changed). After a change with a system
-- line, the line is stored in the chat history and the frame carries it (`chat`): one
-- event per action. Bad arguments are refused (`WW_INVALID`) before anything is read or written.
local bad = counts(10, 17) or one_of(ARGV[1], 'the command', { 'state', 'play', 'pause', 'seek',
    'rate', 'duration', 'skip', 'jump', 'ended', 'refresh', 'hold', 'resume', 'unplayable' })
  or short(ARGV[3], 'the name', 1024) or integer(ARGV[4], 'the play lead', 0, 60000)
  or integer(ARGV[5], 'the pause tolerance', 0, 3600000) or short(ARGV[6], 'the command id', 96)
  or filled(ARGV[7], 'the party id', 64) or integer(ARGV[8], 'the user id', 0, ID_MAX)
  or one_of(ARGV[9], 'the party kind', { 'video', 'playlist' })
  or short(ARGV[10], 'the chat line', 65536) or one_of(ARGV[11], 'the position flag', { '0', '1' })
  or integer(ARGV[12], 'the messages kept', 1, 1000000) or integer(ARGV[13], 'the jump lead', 0, 60000)
  or integer(ARGV[14], 'the longest media', 1, ID_MAX)
  or integer(ARGV[15], 'the shortest duration', 1, 3600000)
  or integer(ARGV[16], 'the ended window', 0, 3600000) or short(ARGV[17], 'the reported media', 64)
  or holds(KEYS[1], 'the state', 'hash') or holds(KEYS[2], 'the party', 'hash')
  or holds(KEYS[3], 'the settings', 'hash') or holds(KEYS[4], 'the controllers', 'set')
  or holds(KEYS[7], 'the chat', 'list') or holds(KEYS[8], 'the chat sequence', 'string')
  or holds(KEYS[10], 'the command ids', 'zset')
if not bad and ARGV[9] == 'playlist' then
  bad = holds(KEYS[5], 'the items', 'hash') or holds(KEYS[6], 'the order', 'list')
end
if bad then return bad end
-- What the number (ARGV[2]) of each command must be.
local longest = tonumber(ARGV[14])
local function unused(v) return integer(v, 'the number of ' .. ARGV[1], 0, 0) end
local function position(v) return number(v, 'the position', 0, longest) end
local function item(v) return integer(v, 'the item id', 1, ID_MAX) end
local numbers = {
  state = unused, play = unused, skip = unused, hold = unused, resume = unused,
  pause = function(v) if v == '-1' then return nil end return position(v) end,
  seek = position,
  rate = function(v) return number(v, 'the rate', 0.25, 2) end,
  duration = function(v) return number(v, 'the duration', tonumber(ARGV[15]), longest) end,
  jump = item, ended = item, unplayable = item,
  refresh = function(v) return integer(v, 'the item id', 0, ID_MAX) end,
}
bad = numbers[ARGV[1]](ARGV[2])
if bad then return bad end
local seq_text = redis.call('GET', KEYS[8])
if seq_text and not string.match(seq_text, '^%d+$') then return invalid('the chat sequence is not a number') end

-- How many recent command ids a party remembers, per party (enough for every viewer's
-- retries after a reconnect).
local COMMAND_IDS_KEPT = 1024
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[2]) == 0 then
  return redis.error_reply('WW_NOT_FOUND the party no longer exists')
end
local cmd = ARGV[1]
local value = tonumber(ARGV[2])
-- A command retried with the id of one already applied (its sender reconnected before the
-- answer came) changes nothing again: it is answered with the state as it is.
local command_id = ARGV[6]
if command_id ~= '' and redis.call('ZSCORE', KEYS[10], command_id) then
  cmd = 'state'
  command_id = ''
end
local playlist = ARGV[9] == 'playlist'

-- Who may control: everyone, or (mode "promoted") the owner and the viewers they promoted.
-- The server (user 0) always may.
local function may_control()
  if ARGV[8] == '0' then return true end
  local mode = redis.call('HGET', KEYS[3], 'control') or 'everyone'
  return mode == 'everyone' or redis.call('HGET', KEYS[2], 'owner') == ARGV[8]
    or redis.call('SISMEMBER', KEYS[4], ARGV[8]) == 1
end
local control = { play = true, pause = true, seek = true, rate = true, skip = true, jump = true }
if control[cmd] and not may_control() then
  return { -1, 'forbidden' }
end
-- A report from a viewer who may not control is heard but changes nothing (their page sends
-- it by itself, so it is not refused).
local report = { duration = true, ended = true }
local heard = not report[cmd] or may_control()

local raw = redis.call('HGETALL', KEYS[1])
local s = {}
for i = 1, #raw, 2 do s[raw[i]] = raw[i + 1] end
local seq = tonumber(s.seq or '0')
local paused = s.paused ~= '0'
local media = s.media
local pos = tonumber(s.position_ms or '0')
local anchor = tonumber(s.anchor_ms or now)
local rate = tonumber(s.rate or '1')
local dur = tonumber(s.duration_ms or '-1')
local by = s.updated_by or ''
local waiting = s.waiting == '1'
local lead = tonumber(ARGV[4])
local jump_lead = tonumber(ARGV[13])
local changed = seq == 0

-- expected(t) = position + (paused ? 0 : max(0, t - anchor) * rate), within [0, duration]
local function expected(at)
  local p = pos
  if not paused and at > anchor then p = pos + (at - anchor) * rate end
  if p < 0 then p = 0 end
  if dur >= 0 and p > dur then p = dur end
  return math.floor(p + 0.5)
end

-- Playlist items: ids in KEYS[6], JSON in KEYS[5].
local function item_start(id)
  local item = redis.call('HGET', KEYS[5], id)
  if not item then return nil end
  return tonumber(cjson.decode(item).start_ms or 0)
end
local function item_of(m)
  if m and string.sub(m, 1, 5) == 'item:' then return string.sub(m, 6) end
  return nil
end
local function next_item(id)
  local index = redis.call('LPOS', KEYS[6], id)
  if not index then return nil end
  return redis.call('LINDEX', KEYS[6], index + 1)
end
-- Switches to an item (or to nothing), keeping play/pause; a playing switch is scheduled.
local function load_item(id)
  if id then
    media = 'item:' .. id
    pos = item_start(id) or 0
  else
    media = ''
    pos = 0
    paused = true
  end
  dur = -1
  if paused then anchor = now else anchor = now + jump_lead end
  changed = true
end

-- The initial state, or a playlist whose current item was removed.
if playlist then
  local current = item_of(media)
  if seq == 0 or (current and not item_start(current)) or (not current and cmd ~= 'state') then
    local fallback = nil
    if cmd == 'refresh' and value > 0 and item_start(ARGV[2]) then fallback = ARGV[2] end
    fallback = fallback or redis.call('LINDEX', KEYS[6], 0)
    if fallback or media ~= '' or seq == 0 then
      if seq == 0 then paused = true end
      load_item(fallback)
    end
  end
elseif seq == 0 then
  media = ARGV[7]
  pos = tonumber(redis.call('HGET', KEYS[2], 'start_ms') or '0')
  anchor = now
end

if playlist and media == '' and control[cmd] then
  return { -1, 'empty_playlist' }
end

if cmd == 'play' then
  -- A viewer's play overrides waiting for others.
  if paused or waiting then
    waiting = false
    pos = expected(now)
    if dur >= 0 and pos >= dur then pos = 0 end
    anchor = now + lead
    paused = false
    changed = true
  end
elseif cmd == 'pause' then
  if waiting then
    waiting = false
    changed = true
  end
  if not paused then
    local e = expected(now)
    if value >= 0 and math.abs(value - e) <= tonumber(ARGV[5]) then pos = value else pos = e end
    anchor = now
    paused = true
    changed = true
  end
elseif cmd == 'seek' then
  -- Positions are checked here, against the duration of the media playing now.
  if dur >= 0 and value > dur then return { -1, 'invalid_position' } end
  pos = value
  -- While playing, the jump is scheduled, so every viewer has moved and restarts together.
  if paused then anchor = now else anchor = now + jump_lead end
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
  -- The first plausible report about the media playing now wins; a known duration stays.
  if heard and dur < 0 and (ARGV[17] == '' or ARGV[17] == media) then
    dur = value
    if pos > dur then pos = dur end
    changed = true
  end
elseif cmd == 'skip' or cmd == 'jump' then
  if not playlist then return { -1, 'not_a_playlist' } end
  local target
  if cmd == 'skip' then target = next_item(item_of(media)) else target = ARGV[2] end
  if not target or not item_start(target) then
    if cmd == 'skip' then return { -1, 'last_item' } end
    return { -1, 'no_such_item' }
  end
  load_item(target)
elseif cmd == 'hold' then
  -- Wait for a buffering viewer, if the party waits for everyone and is playing.
  if not paused and redis.call('HGET', KEYS[3], 'wait') ~= '0' then
    pos = expected(now)
    anchor = now
    paused = true
    waiting = true
    changed = true
  end
elseif cmd == 'resume' then
  if waiting then
    paused = false
    waiting = false
    anchor = now + lead
    changed = true
  end
elseif cmd == 'ended' then
  -- A player reached the end: advance once, if the sender may control and the party's own
  -- timeline lies within the ended window of the item's end.
  if heard and playlist and item_of(media) == ARGV[2] and dur >= 0 and not paused
      and expected(now) >= dur - tonumber(ARGV[16]) then
    local target = next_item(ARGV[2])
    if target then
      load_item(target)
    else
      pos = dur
      anchor = now
      paused = true
      changed = true
    end
  end
elseif cmd == 'unplayable' then
  -- The server found that nobody watching can play the item: if it still plays, move on to
  -- the next item, or pause after the last.
  if playlist and item_of(media) == ARGV[2] then
    local target = next_item(ARGV[2])
    if target then
      load_item(target)
    elseif not paused then
      pos = expected(now)
      anchor = now
      paused = true
      waiting = false
      changed = true
    end
  end
end

if changed then
  seq = seq + 1
  if cmd ~= 'duration' and cmd ~= 'state' and cmd ~= 'refresh' and cmd ~= 'ended'
      and cmd ~= 'unplayable' then by = ARGV[3] end
  if cmd == 'resume' then by = '' end
  redis.call('HSET', KEYS[1], 'seq', seq, 'media', media, 'paused', paused and '1' or '0',
    'position_ms', pos, 'anchor_ms', anchor, 'rate', rate, 'duration_ms', dur, 'updated_by', by,
    'waiting', waiting and '1' or '0')
end
local duration = cjson.null
if dur >= 0 then duration = dur end
local event = { type = 'state', state = {
  seq = seq, media = media, paused = paused, position_ms = pos, anchor_ms = anchor,
  rate = rate, duration_ms = duration, updated_by = by, waiting = waiting } }
if changed and cmd ~= 'state' and ARGV[10] ~= '' then
  local text = ARGV[10]
  if ARGV[11] == '1' then
    local total = math.floor(math.max(pos, 0) / 1000)
    local h, m, sec = math.floor(total / 3600), math.floor(total / 60) % 60, total % 60
    if h > 0 then text = text .. string.format('%d:%02d:%02d', h, m, sec)
    else text = text .. string.format('%d:%02d', m, sec) end
  end
  event.chat = {
    id = redis.call('INCR', KEYS[8]), kind = 'system', user_id = 0, name = '',
    text = text, position_ms = expected(now), media = media, at_ms = now }
  redis.call('RPUSH', KEYS[7], cjson.encode(event.chat))
  redis.call('LTRIM', KEYS[7], -tonumber(ARGV[12]), -1)
end
local frame = cjson.encode(event)
if changed and cmd ~= 'state' then
  redis.call('SPUBLISH', KEYS[9], frame)
end
if command_id ~= '' then
  redis.call('ZADD', KEYS[10], now, command_id)
  redis.call('ZREMRANGEBYRANK', KEYS[10], 0, -(COMMAND_IDS_KEPT + 1))
end
if changed then return { 1, frame } end
return { 0, frame }
