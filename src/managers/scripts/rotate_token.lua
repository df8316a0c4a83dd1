-- Replaces a user's auth token, atomically.
-- KEYS[1] = auth:{presented hash}   KEYS[2] = user:{id}   KEYS[3] = auth:{new hash}
-- ARGV[1] = user id   ARGV[2] = presented hash   ARGV[3] = new hash
-- ARGV[4] = grace seconds   ARGV[5] = auth key prefix
-- ARGV[6] = seconds a guest who owns nothing is kept after this visit (0: forever)
-- Afterwards exactly two tokens are valid: the new one, and the one that was current,
-- for the grace window. Any older token is deleted. A guest who owns nothing (their record
-- has an expiry) is kept for ARGV[6] seconds from now, with their new token. Returns the
-- display name, or nil when the presented token is not (or no longer) valid for this user.
local bad = counts(3, 6) or integer(ARGV[1], 'the user id', 1, ID_MAX)
  or hex(ARGV[2], 'the presented hash', 64) or hex(ARGV[3], 'the new hash', 64)
  or integer(ARGV[4], 'the grace time', 0, 1000000000) or filled(ARGV[5], 'the key prefix', 200)
  or integer(ARGV[6], 'the idle time', 0, 1000000000)
  or holds(KEYS[1], 'the token key', 'string') or holds(KEYS[2], 'the user key', 'hash')
  or holds(KEYS[3], 'the new token key', 'string')
if bad then return bad end
if ARGV[2] == ARGV[3] then return invalid('the new token must differ from the presented one') end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
local name = redis.call('HGET', KEYS[2], 'name')
if not name then
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
local idle = tonumber(ARGV[6])
local guest = redis.call('TTL', KEYS[2]) > 0
redis.call('SET', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[2], 'token', ARGV[3])
if guest then
  if idle > 0 then
    redis.call('EXPIRE', KEYS[2], idle)
    redis.call('EXPIRE', KEYS[3], idle)
  else
    redis.call('PERSIST', KEYS[2])
  end
end
return name
