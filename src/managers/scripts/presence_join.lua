-- Records a viewer's connection, if the party still exists, and counts the person's
-- connections, atomically, so arrivals are told apart from extra tabs and reloads.
-- KEYS[1] = party:{party}:conns   KEYS[2] = the party's root hash
-- KEYS[3] = party:{party}:people  KEYS[4] = party:{party}:departed
-- ARGV[1] = connection id   ARGV[2] = presence entry (JSON)   ARGV[3] = user id
-- Returns {the person's connections now (0: the party is gone), 1 if a departure of theirs
-- was still on record (a reload or a short drop), people watching}.
local bad = counts(4, 3) or filled(ARGV[1], 'the connection id', 128)
  or json_object(ARGV[2], 'the presence entry') or integer(ARGV[3], 'the user id', 1, ID_MAX)
  or holds(KEYS[1], 'the connections', 'hash') or holds(KEYS[3], 'the people', 'hash')
  or holds(KEYS[4], 'the departures', 'hash')
if bad then return bad end
local open = redis.call('HGET', KEYS[3], ARGV[3])
if open and not string.match(open, '^%-?%d+$') then return invalid('the connection count is not a number') end
if redis.call('EXISTS', KEYS[2]) == 0 then return { 0, 0, 0 } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local connections = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
local returning = redis.call('HDEL', KEYS[4], ARGV[3])
return { connections, returning, redis.call('HLEN', KEYS[3]) }
