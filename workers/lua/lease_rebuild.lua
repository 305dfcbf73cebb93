-- Re-add the leases of calls still in flight (per PostgreSQL) after a Redis wipe.
--
-- KEYS[1] ready marker
-- KEYS[2] organisation lease ZSET
-- KEYS[3..n] campaign lease ZSETs, one per entry (KEYS[2 + i] for entry i)
-- ARGV[1] now_s
-- ARGV[2] '1' to set the ready marker at the end (the last chunk), '0' otherwise
-- ARGV[3 + 2*(i-1)] call_id of entry i, ARGV[4 + 2*(i-1)] its expires_at_s
--
-- It only adds (ZADD GT never shortens a lease re-acquired meanwhile), so it is
-- idempotent and safe while other processes acquire and release.
local now_s = tonumber(ARGV[1])
local added = 0
for i = 1, #KEYS - 2 do
  local call_id = ARGV[1 + 2 * i]
  local expires_at_s = ARGV[2 + 2 * i]
  -- An expired call would be pruned by the next acquire anyway; skipping it
  -- keeps a dead call from ever being counted.
  if tonumber(expires_at_s) > now_s then
    redis.call('ZADD', KEYS[2 + i], 'GT', expires_at_s, call_id)
    redis.call('ZADD', KEYS[2], 'GT', expires_at_s, call_id)
    added = added + 1
  end
end
if ARGV[2] == '1' then
  redis.call('SET', KEYS[1], '1')
end
return added
