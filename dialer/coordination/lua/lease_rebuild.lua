-- Write one chunk of the leases of calls in flight (per PostgreSQL) into a new generation.
-- (dialer/coordination/lua/lease_generation.lua is prepended.)
--
-- KEYS[1] ready marker
-- KEYS[2] the marker being built (renamed onto KEYS[1] by the last chunk)
-- KEYS[3] organisation lease ZSET
-- KEYS[4..n] campaign lease ZSETs, one per entry (KEYS[3 + i] for entry i)
-- ARGV[1] now_s
-- ARGV[2] the new generation id
-- ARGV[3] '1' for the last chunk: stamp the organisation set, publish the marker
-- ARGV[4 + 2*(i-1)] call_id of entry i, ARGV[5 + 2*(i-1)] its expires_at_s
--
-- The caller has emptied the lease sets and removed the marker first, so until
-- the last chunk every acquire answers not_ready.
local now_s = tonumber(ARGV[1])
local gen = ARGV[2]
local added = 0
local function stamp(key)
  redis.call('ZADD', key, -1, GEN_STAMP .. gen)
  redis.call('HSET', KEYS[2], 'v:' .. key, 1)
end
for i = 1, #KEYS - 3 do
  local call_id = ARGV[2 + 2 * i]
  local expires_at_s = ARGV[3 + 2 * i]
  -- An expired call would be pruned by the next acquire anyway; skipping it
  -- keeps a dead call from ever being counted.
  if tonumber(expires_at_s) > now_s then
    redis.call('ZADD', KEYS[3 + i], 'GT', expires_at_s, call_id)
    redis.call('ZADD', KEYS[3], 'GT', expires_at_s, call_id)
    stamp(KEYS[3 + i])
    added = added + 1
  end
end
if ARGV[3] == '1' then
  stamp(KEYS[3])
  redis.call('HSET', KEYS[2], 'gen', gen, 'run_id', server_run_id())
  redis.call('RENAME', KEYS[2], KEYS[1])
end
return added
