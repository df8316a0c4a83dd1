-- Keeps a user for good (they now own something): their record and current token lose any
-- expiry.
-- KEYS[1] = user:{id}   ARGV[1] = auth key prefix
local bad = counts(1, 1) or filled(ARGV[1], 'the auth key prefix', 1024)
  or holds(KEYS[1], 'the user', 'hash')
if bad then return bad end
redis.call('PERSIST', KEYS[1])
local token = redis.call('HGET', KEYS[1], 'token')
if token then
  redis.call('PERSIST', ARGV[1] .. token)
end
return 1
