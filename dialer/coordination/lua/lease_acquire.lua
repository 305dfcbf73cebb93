-- Acquire one channel lease for a call, atomically over its campaign's and its organisation's sets.
-- (dialer/coordination/lua/lease_generation.lua is prepended: current_generation, set_version, bump.)
--
-- KEYS[1] campaign lease ZSET {call_id: expires_at_s}
-- KEYS[2] lease ZSET {call_id: expires_at_s} of the campaign's organisation (one per organisation)
-- KEYS[3] ready marker HASH (absent after a Redis wipe until the sets are rebuilt)
-- ARGV[1] call_id
-- ARGV[2] campaign_limit (integer; <= 0 means nothing can be acquired)
-- ARGV[3] org_limit (integer; <= 0 means nothing can be acquired)
-- ARGV[4] now_s (simulated epoch seconds, passed in: never the Redis server clock)
-- ARGV[5] expires_at_s (the call's own deadline, simulated epoch seconds)
--
-- Returns {1, ''} when acquired, else {0, 'not_ready' | 'campaign_full' | 'org_full'}.

-- An empty or stale set after a wipe, an eviction or a restore would let
-- through more calls than the caps allow, so nothing is acquired until
-- someone has rebuilt the sets from PostgreSQL.
local gen = current_generation(KEYS[3])
if not gen then
  return {0, 'not_ready'}
end
local campaign_version = set_version(KEYS[3], KEYS[1], gen)
local org_version = set_version(KEYS[3], KEYS[2], gen)
if not campaign_version or not org_version then
  -- Dropping the marker is what makes the next tick or sweep rebuild.
  redis.call('DEL', KEYS[3])
  return {0, 'not_ready'}
end

local call_id = ARGV[1]
local campaign_limit = tonumber(ARGV[2])
local org_limit = tonumber(ARGV[3])
local now_s = ARGV[4]
local expires_at_s = ARGV[5]

-- A lease whose deadline has passed belongs to a call that died without
-- releasing (killed worker, lost result): it no longer holds a channel.
-- From 0, not -inf: the generation stamp has a negative score.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(0', now_s)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '(0', now_s)

local function take()
  redis.call('ZADD', KEYS[1], expires_at_s, call_id)
  redis.call('ZADD', KEYS[2], expires_at_s, call_id)
  bump(KEYS[3], KEYS[1], gen, campaign_version)
  bump(KEYS[3], KEYS[2], gen, org_version)
  return {1, ''}
end

-- Re-acquiring a lease the call already holds must not take a second channel;
-- it only moves the deadline. Both sets are written so they cannot drift apart.
if redis.call('ZSCORE', KEYS[1], call_id) then
  return take()
end

if campaign_limit <= 0 or leases_held(KEYS[1]) >= campaign_limit then
  return {0, 'campaign_full'}
end
-- The org set is checked with ZSCORE too: a call can only be in it through this
-- campaign, so a member there is the same call and must not count twice.
if not redis.call('ZSCORE', KEYS[2], call_id) then
  if org_limit <= 0 or leases_held(KEYS[2]) >= org_limit then
    return {0, 'org_full'}
  end
end
return take()
