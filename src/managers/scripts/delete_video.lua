-- Deletes a video and everything that hangs off it, then tells its viewers.
-- KEYS[1] = video:{id}   KEYS[2] = user:{owner}:videos   KEYS[3] = its party state
-- KEYS[4] = its party connections
-- ARGV[1] = invite key prefix   ARGV[2] = video id   ARGV[3] = event channel
-- ARGV[4] = the `closed` frame
-- Returns 1, or nil when the video did not exist.
local invite = redis.call('HGET', KEYS[1], 'invite_key')
if not invite then return false end
redis.call('DEL', ARGV[1] .. invite, KEYS[1], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
