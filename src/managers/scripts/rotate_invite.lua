-- Gives a video a new invite key; the old key stops working at once.
-- KEYS[1] = video:{id}   KEYS[2] = invite:{new key}
-- ARGV[1] = new key   ARGV[2] = invite key prefix   ARGV[3] = event channel
-- ARGV[4] = the `closed` frame for viewers of the old key   ARGV[5] = party id
-- Returns 1, or nil when the video no longer exists.
local bad = counts(2, 5) or filled(ARGV[1], 'the new key', 64)
  or filled(ARGV[2], 'the invite key prefix', 1024) or filled(ARGV[3], 'the channel', 1024)
  or json_object(ARGV[4], 'the closed frame') or filled(ARGV[5], 'the party id', 64)
  or holds(KEYS[1], 'the video', 'hash')
if bad then return bad end
if redis.call('EXISTS', KEYS[2]) == 1 then return invalid('the new invite key is taken') end
local old = redis.call('HGET', KEYS[1], 'invite_key')
if not old then return false end
redis.call('DEL', ARGV[2] .. old)
redis.call('SET', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[1], 'invite_key', ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
