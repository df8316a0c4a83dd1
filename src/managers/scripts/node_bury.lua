-- Declares a node dead when its heartbeat key has expired: it leaves the index (its
-- heartbeats are refused from now on) and joins the buried, whose parties are swept.
-- KEYS[1] = {nodes}:node:{id}   KEYS[2] = {nodes}:index   KEYS[3] = {nodes}:buried
-- ARGV[1] = node id
-- Returns 1 when it was buried now, 0 when it is alive.
local bad = counts(3, 1) or filled(ARGV[1], 'the node id', 64)
  or holds(KEYS[2], 'the node index', 'hash') or holds(KEYS[3], 'the buried nodes', 'zset')
if bad then return bad end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
return 1
