-- Shared head of every lease script (prepended by dialer/coordination/redis_leases.py): is the
-- lease store one consistent picture, written by this very Redis server?
--
-- The ready marker is a HASH: 'gen' (a random id per rebuild), 'run_id' (of
-- the Redis server process that took the rebuild) and 'v:<set key>' (the
-- version of each lease set written in this generation). Each lease set holds
-- a stamp member '~generation:<gen>' whose score is minus its version: lease
-- scores are deadlines in epoch seconds (> 0), so the stamp is never counted,
-- pruned or listed. Every write bumps the version in both places at once, so
-- an evicted set, a set or marker restored from an older copy, or a set of an
-- earlier generation no longer matches; a restart that loaded an RDB/AOF or a
-- failover to a replica changes the server's run_id. Any of these answers
-- not_ready until a rebuild from PostgreSQL has run.
local GEN_STAMP = '~generation:'

-- The id of this Redis server process: new at every start, and another on a replica.
local function server_run_id()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end

-- The marker's generation id, or nil when the store must be rebuilt.
local function current_generation(marker)
  -- The previous release's marker was a plain string: not a proof of anything.
  if redis.call('TYPE', marker)['ok'] ~= 'hash' then
    return nil
  end
  local fields = redis.call('HMGET', marker, 'gen', 'run_id')
  if not fields[1] then
    return nil
  end
  if fields[2] ~= server_run_id() then
    return nil
  end
  return fields[1]
end

-- The set's version in generation gen: 0 for a set not yet written in it
-- (and absent), false when it is missing, older, or of another generation.
local function set_version(marker, key, gen)
  local expected = redis.call('HGET', marker, 'v:' .. key)
  if not expected then
    if redis.call('EXISTS', key) == 0 then
      return 0
    end
    return false
  end
  local stamp = redis.call('ZSCORE', key, GEN_STAMP .. gen)
  if not stamp or -tonumber(stamp) ~= tonumber(expected) then
    return false
  end
  return tonumber(expected)
end

-- Record a write to the set: marker and stamp move together.
local function bump(marker, key, gen, version)
  local next_version = version + 1
  redis.call('HSET', marker, 'v:' .. key, next_version)
  redis.call('ZADD', key, -next_version, GEN_STAMP .. gen)
end

-- Leases are the members with a positive score (a deadline); the stamp is not one.
local function leases_held(key)
  return redis.call('ZCOUNT', key, '(0', '+inf')
end
