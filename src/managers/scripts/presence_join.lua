-- Records a viewer's connection, if the party still exists, and counts the person's
-- connections, atomically, so arrivals are told apart from extra tabs and reloads.
-- KEYS[1] = party:{party}:conns   KEYS[2] = the party's root hash
-- KEYS[3] = party:{party}:people  KEYS[4] = party:{party}:departed
-- ARGV[1] = connection id   ARGV[2] = presence entry (JSON)   ARGV[3] = user id
-- Returns {the person's connections now (0: the party is gone), 1 if a departure of theirs
-- was still on record (a reload or a short drop), people watching}.
if redis.call('EXISTS', KEYS[2]) == 0 then return { 0, 0, 0 } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local connections = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
local returning = redis.call('HDEL', KEYS[4], ARGV[3])
return { connections, returning, redis.call('HLEN', KEYS[3]) }
