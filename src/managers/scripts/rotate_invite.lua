-- Gives a video or playlist a new invite key and tells the viewers of the old one. The
-- invite keys themselves live under their own hash tags: the caller has claimed the new one
-- before, and removes the old one afterwards (an invite that no longer matches the party's
-- record opens nothing meanwhile).
-- KEYS[1] = the party's record   KEYS[2] = its event channel
-- ARGV[1] = new key   ARGV[2] = the `closed` frame for viewers of the old key
-- Returns the old key, or nil when the party no longer exists.
local bad = counts(2, 2) or filled(ARGV[1], 'the new key', 64)
  or json_object(ARGV[2], 'the closed frame') or holds(KEYS[1], 'the party', 'hash')
if bad then return bad end
local old = redis.call('HGET', KEYS[1], 'invite_key')
if not old then return false end
if old == ARGV[1] then return invalid('the new key must differ from the old one') end
redis.call('HSET', KEYS[1], 'invite_key', ARGV[1])
redis.call('SPUBLISH', KEYS[2], ARGV[2])
return old
