-- Forgets a recorded departure if it is still the one recorded at ARGV[2] (the person has not
-- come back since). KEYS[1] = party:{party}:departed   ARGV[1] = user id   ARGV[2] = when (ms)
-- Returns 1 when it was, else 0.
local bad = counts(1, 2) or integer(ARGV[1], 'the user id', 1, ID_MAX)
  or integer(ARGV[2], 'the departure time', 1, ID_MAX) or holds(KEYS[1], 'the departures', 'hash')
if bad then return bad end
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
