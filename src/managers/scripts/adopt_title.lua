-- Gives a video the title a player reported, if it still has the title chosen for it
-- automatically: never over a title its owner chose (at creation or by renaming, marked
-- `title_by` = owner), and only once (the first report wins, marked `title_by` = player).
-- KEYS[1] = party:{video:id}   KEYS[2] = its event channel
-- ARGV[1] = the automatic title   ARGV[2] = the reported title
-- ARGV[3] = the `video` frame announcing the new title
-- Returns 1 when the title was taken, else 0.
local bad = counts(2, 3) or filled(ARGV[1], 'the automatic title', 4096)
  or filled(ARGV[2], 'the reported title', 4096)
  or json_object(ARGV[3], 'the video frame') or holds(KEYS[1], 'the video', 'hash')
if bad then return bad end
local title = redis.call('HGET', KEYS[1], 'title')
if not title or title ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'title_by') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'title', ARGV[2], 'title_by', 'player')
redis.call('SPUBLISH', KEYS[2], ARGV[3])
return 1
