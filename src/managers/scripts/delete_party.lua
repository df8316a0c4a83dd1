-- Deletes a video or playlist and every key of its party, then tells its viewers. Its invite
-- key and its entry in the owner's index live under other hash tags: the caller removes them
-- afterwards (an invite to a deleted party opens nothing meanwhile).
-- KEYS[1] = the party's record (party:{video:id} or party:{playlist:id})
-- KEYS[2] = its event channel   KEYS[3..] = every other key of the party
-- ARGV[1] = the `closed` frame
-- Returns the invite key it had, or nil when it did not exist.
local bad = counts(2, 1, true) or json_object(ARGV[1], 'the closed frame')
  or holds(KEYS[1], 'the party', 'hash')
if bad then return bad end
local invite = redis.call('HGET', KEYS[1], 'invite_key')
if not invite then return false end
redis.call('DEL', KEYS[1])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('SPUBLISH', KEYS[2], ARGV[1])
return invite
