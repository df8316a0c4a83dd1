-- Replaces a user's auth token, atomically.
-- KEYS[1] = auth:{presented hash}   KEYS[2] = user:{id}   KEYS[3] = auth:{new hash}
-- ARGV[1] = user id   ARGV[2] = presented hash   ARGV[3] = new hash
-- ARGV[4] = grace seconds   ARGV[5] = auth key prefix
-- Afterwards exactly two tokens are valid: the new one, and the one that was current,
-- for the grace window. Any older token is deleted. Returns the display name, or nil when
-- the presented token is not (or no longer) valid for this user.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
local current = redis.call('HGET', KEYS[2], 'token')
local previous = redis.call('HGET', KEYS[2], 'prev_token')
if previous and previous ~= current then
  redis.call('DEL', ARGV[5] .. previous)
end
if current then
  redis.call('EXPIRE', ARGV[5] .. current, tonumber(ARGV[4]))
  redis.call('HSET', KEYS[2], 'prev_token', current)
end
redis.call('SET', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[2], 'token', ARGV[3])
return redis.call('HGET', KEYS[2], 'name')
