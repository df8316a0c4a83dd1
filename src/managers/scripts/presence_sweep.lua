-- Removes every connection a dead node recorded in one party, as their leaving would, and
-- tells whether anyone left still holds the party.
-- KEYS[1] = party:{party}:conns   KEYS[2] = party:{party}:people
-- KEYS[3] = party:{party}:departed   KEYS[4] = the party's record
-- ARGV[1] = the dead node's id
-- Returns {connections removed, 1 if a remaining connection holds the party (buffering, neither
-- left behind nor away) else 0, then for each person whose last connection it was: user id, when
-- their departure was recorded (ms, 0 if the party is gone), their name}.
local bad = counts(4, 1) or filled(ARGV[1], 'the node id', 64)
  or holds(KEYS[1], 'the connections', 'hash') or holds(KEYS[2], 'the people', 'hash')
  or holds(KEYS[3], 'the departures', 'hash')
if bad then return bad end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exists = redis.call('EXISTS', KEYS[4]) == 1
local raw = redis.call('HGETALL', KEYS[1])
local removed, holds, gone = 0, 0, {}
for i = 1, #raw, 2 do
  local ok, entry = pcall(cjson.decode, raw[i + 1])
  if ok and type(entry) == 'table' and entry.node == ARGV[1] then
    redis.call('HDEL', KEYS[1], raw[i])
    removed = removed + 1
    local user = tostring(entry.user_id)
    if redis.call('HINCRBY', KEYS[2], user, -1) <= 0 then
      redis.call('HDEL', KEYS[2], user)
      local at = 0
      if exists then
        at = now
        redis.call('HSET', KEYS[3], user, at)
      end
      gone[#gone + 1] = user
      gone[#gone + 1] = at
      gone[#gone + 1] = tostring(entry.name or '')
    end
  elseif ok and type(entry) == 'table' and entry.status == 'buffering' and not entry.left_behind
      and not entry.away then
    holds = 1
  end
end
local reply = { removed, holds }
for _, v in ipairs(gone) do reply[#reply + 1] = v end
return reply
