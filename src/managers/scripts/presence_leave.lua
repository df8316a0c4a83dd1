-- Removes a viewer's connection; when it was the person's last, records when they left
-- (while the party exists), atomically with the removal.
-- KEYS[1] = party:{party}:conns   KEYS[2] = party:{party}:people
-- KEYS[3] = party:{party}:departed   KEYS[4] = the party's root hash
-- ARGV[1] = connection id   ARGV[2] = user id
-- Returns {the person's remaining connections (-1: the connection was not recorded),
-- people still watching, when the departure was recorded (ms, 0 if not)}.
local bad = counts(4, 2) or filled(ARGV[1], 'the connection id', 128)
  or integer(ARGV[2], 'the user id', 1, ID_MAX)
  or holds(KEYS[1], 'the connections', 'hash') or holds(KEYS[2], 'the people', 'hash')
  or holds(KEYS[3], 'the departures', 'hash')
if bad then return bad end
local open = redis.call('HGET', KEYS[2], ARGV[2])
if open and not string.match(open, '^%-?%d+$') then return invalid('the connection count is not a number') end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return { -1, redis.call('HLEN', KEYS[2]), 0 }
end
local left = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
local at = 0
if left <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  if redis.call('EXISTS', KEYS[4]) == 1 then
    local t = redis.call('TIME')
    at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('HSET', KEYS[3], ARGV[2], at)
  end
end
return { left, redis.call('HLEN', KEYS[2]), at }
