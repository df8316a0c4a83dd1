-- Sets a hash field only while the thing it belongs to still exists, so nothing is left
-- behind by a connection that outlives its party by a moment (presence, departures,
-- settings), or by a guest forgotten a moment ago (their name).
-- KEYS[1] = the hash to write   KEYS[2] = the party's root hash (or the hash itself)
-- ARGV[1] = field   ARGV[2] = value
-- Returns 1, or 0 when it is gone.
local bad = counts(2, 2) or filled(ARGV[1], 'the field', 1024)
  or filled(ARGV[2], 'the value', 65536) or holds(KEYS[1], 'the hash', 'hash')
if bad then return bad end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
