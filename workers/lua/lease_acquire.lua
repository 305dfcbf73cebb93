-- Acquire one channel lease for a call, atomically over the campaign and organisation sets.
--
-- KEYS[1] campaign lease ZSET {call_id: expires_at_s}
-- KEYS[2] organisation lease ZSET {call_id: expires_at_s}
-- KEYS[3] ready marker (absent after a Redis wipe until the sets are rebuilt)
-- ARGV[1] call_id
-- ARGV[2] campaign_limit (integer; <= 0 means nothing can be acquired)
-- ARGV[3] org_limit (integer; <= 0 means nothing can be acquired)
-- ARGV[4] now_s (simulated epoch seconds, passed in: never the Redis server clock)
-- ARGV[5] expires_at_s (the call's own deadline, simulated epoch seconds)
--
-- Returns {1, ''} when acquired, else {0, 'not_ready' | 'campaign_full' | 'org_full'}.

-- An empty set after a wipe would let through more calls than the caps allow,
-- so nothing is acquired until someone has rebuilt the sets from PostgreSQL.
if redis.call('EXISTS', KEYS[3]) == 0 then
  return {0, 'not_ready'}
end

local call_id = ARGV[1]
local campaign_limit = tonumber(ARGV[2])
local org_limit = tonumber(ARGV[3])
local now_s = ARGV[4]
local expires_at_s = ARGV[5]

-- A lease whose deadline has passed belongs to a call that died without
-- releasing (killed worker, lost result): it no longer holds a channel.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_s)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_s)

-- Re-acquiring a lease the call already holds must not take a second channel;
-- it only moves the deadline. Both sets are written so they cannot drift apart.
if redis.call('ZSCORE', KEYS[1], call_id) then
  redis.call('ZADD', KEYS[1], expires_at_s, call_id)
  redis.call('ZADD', KEYS[2], expires_at_s, call_id)
  return {1, ''}
end

if campaign_limit <= 0 or redis.call('ZCARD', KEYS[1]) >= campaign_limit then
  return {0, 'campaign_full'}
end
-- The org set is checked with ZSCORE too: a call can only be in it through this
-- campaign, so a member there is the same call and must not count twice.
if not redis.call('ZSCORE', KEYS[2], call_id) then
  if org_limit <= 0 or redis.call('ZCARD', KEYS[2]) >= org_limit then
    return {0, 'org_full'}
  end
end

redis.call('ZADD', KEYS[1], expires_at_s, call_id)
redis.call('ZADD', KEYS[2], expires_at_s, call_id)
return {1, ''}
