-- Restore a campaign's pacing state from PostgreSQL after a Redis wipe.
--
-- KEYS[1] placements ZSET, KEYS[2] last placement, KEYS[3] today's counter
-- ARGV[1] now_s, ARGV[2] today_count, ARGV[3] retention_s, ARGV[4] gc_ttl_real_s
-- ARGV[5 + 2*(i-1)] call_id of placement i, ARGV[6 + 2*(i-1)] its placed_at_s
--
-- Only adds or raises (never lowers), so running it twice, or while workers
-- place calls, can only make pacing stricter, never looser.
local now_s = tonumber(ARGV[1])
local today_count = tonumber(ARGV[2])
local retention_s = tonumber(ARGV[3])
local gc_ttl_real_s = tonumber(ARGV[4])

local last_s = tonumber(redis.call('GET', KEYS[2]))
local last_raw = nil
local added = 0
for i = 5, #ARGV - 1, 2 do
  local call_id = ARGV[i]
  local placed_at_s = tonumber(ARGV[i + 1])
  -- Same retention as the live log: older placements can no longer matter.
  if placed_at_s > now_s - retention_s then
    redis.call('ZADD', KEYS[1], 'GT', ARGV[i + 1], call_id)
    added = added + 1
  end
  if not last_s or placed_at_s > last_s then
    last_s = placed_at_s
    last_raw = ARGV[i + 1]
  end
end
if last_raw then
  redis.call('SET', KEYS[2], last_raw)
end

local today = tonumber(redis.call('GET', KEYS[3]) or '0')
if today_count > today then
  redis.call('SET', KEYS[3], ARGV[2])
end

for k = 1, 3 do
  if redis.call('EXISTS', KEYS[k]) == 1 then
    redis.call('EXPIRE', KEYS[k], gc_ttl_real_s)
  end
end
return added
