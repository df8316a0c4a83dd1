-- Sets a hash field only while a party still exists, so nothing is left behind by a
-- connection that outlives its party by a moment (presence, departures, settings).
-- KEYS[1] = the hash to write   KEYS[2] = the party's root hash
-- ARGV[1] = field   ARGV[2] = value
-- Returns 1, or 0 when the party is gone.
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
