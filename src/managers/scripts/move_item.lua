-- Moves a playlist item to a new index (0-based; past the end means last).
-- KEYS[1] = playlist:{id}:order   ARGV[1] = item id   ARGV[2] = index
-- Returns 1, or 0 when the item is not in the playlist.
if redis.call('LREM', KEYS[1], 0, ARGV[1]) == 0 then return 0 end
local index = tonumber(ARGV[2])
local pivot = redis.call('LINDEX', KEYS[1], index)
if index < 0 or not pivot then
  redis.call('RPUSH', KEYS[1], ARGV[1])
else
  redis.call('LINSERT', KEYS[1], 'BEFORE', pivot, ARGV[1])
end
return 1
