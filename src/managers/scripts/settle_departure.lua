-- Forgets a recorded departure if it is still the one recorded at ARGV[2] (the person has not
-- come back since). KEYS[1] = party:{party}:departed   ARGV[1] = user id   ARGV[2] = when (ms)
-- Returns 1 when it was, else 0.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
