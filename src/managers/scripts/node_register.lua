-- Registers a node under a new epoch: its heartbeat key and its place in the index.
-- KEYS[1] = {nodes}:node:{id}   KEYS[2] = {nodes}:index   KEYS[3] = {nodes}:epoch
-- ARGV[1] = node id   ARGV[2] = heartbeat lifetime (ms)
-- Returns the epoch, which every later heartbeat must present.
local bad = counts(3, 2) or filled(ARGV[1], 'the node id', 64)
  or integer(ARGV[2], 'the heartbeat lifetime', 100, 3600000)
  or holds(KEYS[1], 'the node key', 'string') or holds(KEYS[2], 'the node index', 'hash')
  or holds(KEYS[3], 'the epoch counter', 'string')
if bad then return bad end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  return invalid('the node id is taken')
end
local epoch = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], epoch, 'PX', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], epoch)
return epoch
