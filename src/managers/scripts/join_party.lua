-- Records a viewer's connection in a party's presence, if the party still exists.
-- KEYS[1] = party:{party}:conns   KEYS[2] = the party's media hash
-- ARGV[1] = connection id   ARGV[2] = presence entry (JSON)
-- Returns 1, or 0 when the party is gone.
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
