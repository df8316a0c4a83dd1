-- Records that a viewer's connection cannot play the media its party plays, and says whether
-- nobody watching can: every connection present has reported that media.
-- KEYS[1] = party:{party}:state   KEYS[2] = party:{party}:conns   KEYS[3] = party:{party}:unplayable
-- ARGV[1] = connection id   ARGV[2] = the media reported (item:{id})
-- Returns 1 when every connection present has now reported the media playing now (the reports
-- are then cleared), else 0 — also when the party plays something else or the connection is
-- not present, which records nothing. Reports about other media, or of connections gone, are
-- forgotten on the way.
local bad = counts(3, 2) or filled(ARGV[1], 'the connection id', 128)
  or filled(ARGV[2], 'the media', 64) or holds(KEYS[1], 'the state', 'hash')
  or holds(KEYS[2], 'the connections', 'hash') or holds(KEYS[3], 'the reports', 'hash')
if bad then return bad end
if redis.call('HGET', KEYS[1], 'media') ~= ARGV[2] then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
local reports = redis.call('HGETALL', KEYS[3])
for i = 1, #reports, 2 do
  if reports[i + 1] ~= ARGV[2] or redis.call('HEXISTS', KEYS[2], reports[i]) == 0 then
    redis.call('HDEL', KEYS[3], reports[i])
  end
end
-- What is left are reports of present connections about this media: all of them, or not.
if redis.call('HLEN', KEYS[3]) < redis.call('HLEN', KEYS[2]) then return 0 end
redis.call('DEL', KEYS[3])
return 1
