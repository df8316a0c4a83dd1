-- Keeps a node alive, if it still holds its epoch: a node the sweeper buried (it stalled
-- past its lifetime) or whose id another took is fenced off and must register anew.
-- KEYS[1] = {nodes}:node:{id}   KEYS[2] = {nodes}:index
-- ARGV[1] = node id   ARGV[2] = its epoch   ARGV[3] = heartbeat lifetime (ms)
-- Returns 1, or 0 when the node is fenced off.
local bad = counts(2, 3) or filled(ARGV[1], 'the node id', 64)
  or integer(ARGV[2], 'the epoch', 1, ID_MAX) or integer(ARGV[3], 'the heartbeat lifetime', 100, 3600000)
  or holds(KEYS[1], 'the node key', 'string') or holds(KEYS[2], 'the node index', 'hash')
if bad then return bad end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
