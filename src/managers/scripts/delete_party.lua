-- Deletes a video or playlist and everything that hangs off it, then tells its viewers.
-- KEYS[1] = the root hash (video:{id} or playlist:{id})   KEYS[2] = the owner's index (sorted set)
-- KEYS[3..] = every other key of it (party state, presence, chat, settings, items…)
-- ARGV[1] = invite key prefix   ARGV[2] = its id in the owner's index   ARGV[3] = event channel
-- ARGV[4] = the `closed` frame
-- Returns 1, or nil when it did not exist.
local bad = counts(2, 4, true) or filled(ARGV[1], 'the invite key prefix', 1024)
  or integer(ARGV[2], 'the id', 1, ID_MAX) or filled(ARGV[3], 'the channel', 1024)
  or json_object(ARGV[4], 'the closed frame')
  or holds(KEYS[1], 'the root', 'hash') or holds(KEYS[2], 'the owner index', 'zset')
if bad then return bad end
local invite = redis.call('HGET', KEYS[1], 'invite_key')
if not invite then return false end
redis.call('DEL', ARGV[1] .. invite, KEYS[1])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
