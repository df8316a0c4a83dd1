-- Moves a playlist item to a new index (0-based; past the end means last).
-- KEYS[1] = playlist:{id}:order   ARGV[1] = item id   ARGV[2] = index
-- ARGV[3] = the largest index accepted (the most items a playlist may hold)
-- Returns 1, or 0 when the item is not in the playlist. The item is looked up, and the index
-- checked, before anything is removed: a refused move leaves the order as it was.
local bad = counts(1, 3) or integer(ARGV[1], 'the item id', 1, ID_MAX)
  or integer(ARGV[3], 'the largest index', 0, 1000000) or holds(KEYS[1], 'the order', 'list')
if bad then return bad end
bad = integer(ARGV[2], 'the index', 0, tonumber(ARGV[3]))
if bad then return bad end
if not redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end
local index = tonumber(ARGV[2])
redis.call('LREM', KEYS[1], 0, ARGV[1])
local pivot = redis.call('LINDEX', KEYS[1], index)
if pivot then
  redis.call('LINSERT', KEYS[1], 'BEFORE', pivot, ARGV[1])
else
  redis.call('RPUSH', KEYS[1], ARGV[1])
end
return 1
