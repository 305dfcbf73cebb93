-- Decide, atomically for every worker at once, whether one call may be placed now.
--
-- KEYS[1] placements ZSET {call_id: placed_at_s} (sliding-window log)
-- KEYS[2] last placement instant (string, simulated epoch seconds)
-- KEYS[3] placements counter for the campaign-local day
-- ARGV[1] now_s (simulated epoch seconds, passed in: never the Redis server clock)
-- ARGV[2] call_id
-- ARGV[3] calls_per_minute ('' = no limit; 0 = nothing may be placed)
-- ARGV[4] spacing_s (<= 0 = no spacing)
-- ARGV[5] daily_limit ('' = no limit)
-- ARGV[6] window_s (60: the calls_per_minute window)
-- ARGV[7] retention_s (how long placements stay in the log; >= window_s)
-- ARGV[8] gc_ttl_real_s (EXPIRE in real seconds, garbage collection only)
--
-- Returns {allowed 0|1, reason or '', retry_at_s or ''}; retry_at_s is a
-- '%.17g' string because Lua numbers returned to Redis are truncated to integers.

local now_s = tonumber(ARGV[1])
local call_id = ARGV[2]
local calls_per_minute = tonumber(ARGV[3])
local spacing_s = tonumber(ARGV[4])
local daily_limit = tonumber(ARGV[5])
local window_s = tonumber(ARGV[6])
local retention_s = tonumber(ARGV[7])
local gc_ttl_real_s = tonumber(ARGV[8])

local function fmt(x)
  return string.format('%.17g', x)
end

-- The smallest r >= base + delta with r - delta >= base in floating point, so a
-- retry at exactly retry_at_s passes the same test (score > now_s - window_s).
local function at_least(base, delta)
  local r = base + delta
  while r - delta < base do
    local _, exponent = math.frexp(r)
    r = r + math.ldexp(1, exponent - 53)  -- one unit in the last place
  end
  return r
end

-- Entries are kept longer than the window so that a worker whose clock lags
-- another's (simulated time runs up to 1000x real) still sees the placements
-- it must count; the count itself only looks at the last window_s.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now_s - retention_s))

-- Idempotent per call: a redelivered dial of a call already counted passes
-- without taking a second slot.
if redis.call('ZSCORE', KEYS[1], call_id) then
  return {1, '', ''}
end

-- The daily limit first: while it holds nothing else matters until tomorrow,
-- which the caller knows better (it owns the campaign's time zone).
local today = tonumber(redis.call('GET', KEYS[3]) or '0')
if daily_limit and today >= daily_limit then
  return {0, 'daily_limit', ''}
end

local reason = nil
local retry_at_s = nil
if calls_per_minute then
  if calls_per_minute <= 0 then
    return {0, 'calls_per_minute', ''}
  end
  local cutoff = '(' .. fmt(now_s - window_s)
  -- Strictly after the cutoff: every half-open 60 s interval then holds at most N.
  local in_window = redis.call('ZCOUNT', KEYS[1], cutoff, '+inf')
  if in_window >= calls_per_minute then
    -- Enough of the oldest must leave the window for the count to drop below N
    -- (usually just the oldest; more if a rebuild or a lagging clock overfilled it).
    local pivot = redis.call('ZRANGEBYSCORE', KEYS[1], cutoff, '+inf', 'WITHSCORES',
                             'LIMIT', in_window - calls_per_minute, 1)
    reason = 'calls_per_minute'
    retry_at_s = at_least(tonumber(pivot[2]), window_s)
  end
end

if spacing_s > 0 then
  local last_s = tonumber(redis.call('GET', KEYS[2]))
  -- Compared as now_s >= last_s + spacing_s so that retry_at_s is exactly the
  -- first instant that passes.
  if last_s and now_s < last_s + spacing_s then
    local spacing_retry_s = last_s + spacing_s
    -- The later of the two is the earliest instant at which both can pass.
    if not retry_at_s or spacing_retry_s > retry_at_s then
      reason = 'spacing'
      retry_at_s = spacing_retry_s
    end
  end
end

if reason then
  return {0, reason, fmt(retry_at_s)}
end

redis.call('ZADD', KEYS[1], ARGV[1], call_id)
-- Only moves forward: a worker whose clock lags must not make spacing looser.
local last_s = tonumber(redis.call('GET', KEYS[2]))
if not last_s or now_s > last_s then
  redis.call('SET', KEYS[2], ARGV[1])
end
redis.call('INCR', KEYS[3])
-- The only real-time values in the dialer: garbage collection of idle keys.
redis.call('EXPIRE', KEYS[1], gc_ttl_real_s)
redis.call('EXPIRE', KEYS[2], gc_ttl_real_s)
redis.call('EXPIRE', KEYS[3], gc_ttl_real_s)
return {1, '', ''}
