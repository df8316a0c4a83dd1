-- Checks a user's auth token without replacing it.
-- KEYS[1] = auth:{presented hash}   KEYS[2] = user:{id}
-- ARGV[1] = user id   ARGV[2] = presented hash
-- ARGV[3] = seconds a guest who owns nothing is kept after this visit (0: forever)
-- A guest who owns nothing (their record has an expiry) is kept for ARGV[3] seconds from now,
-- with their current token (a token in its grace window keeps its short expiry). Returns the
-- display name, or nil when the token is not valid for this user.
local bad = counts(2, 3) or integer(ARGV[1], 'the user id', 1, ID_MAX)
  or hex(ARGV[2], 'the token hash', 64) or integer(ARGV[3], 'the idle time', 0, 1000000000)
  or holds(KEYS[1], 'the token key', 'string') or holds(KEYS[2], 'the user key', 'hash')
if bad then return bad end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
local name = redis.call('HGET', KEYS[2], 'name')
local idle = tonumber(ARGV[3])
if name and idle > 0 and redis.call('TTL', KEYS[2]) > 0 then
  redis.call('EXPIRE', KEYS[2], idle)
  if redis.call('HGET', KEYS[2], 'token') == ARGV[2] then
    redis.call('EXPIRE', KEYS[1], idle)
  end
end
return name
