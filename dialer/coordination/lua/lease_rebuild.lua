-- Write one chunk of the leases of calls in flight (per PostgreSQL) into a new generation.
-- (dialer/coordination/lua/lease_generation.lua is prepended.)
--
-- KEYS[1] ready marker
-- KEYS[2] the marker being built (renamed onto KEYS[1] by the last chunk)
-- KEYS[1 + 2*i] campaign lease ZSET of entry i, KEYS[2 + 2*i] its organisation's lease ZSET
-- ARGV[1] now_s
-- ARGV[2] the new generation id
-- ARGV[3] '1' for the last chunk: publish the marker
-- ARGV[4 + 2*(i-1)] call_id of entry i, ARGV[5 + 2*(i-1)] its expires_at_s
--
-- The caller has emptied the lease sets and removed the marker first, so until
-- the last chunk every acquire answers not_ready. A set no entry writes stays
-- absent and unversioned: as if never written, which is what an empty set is.
local now_s = tonumber(ARGV[1])
local gen = ARGV[2]
local added = 0
local function stamp(key)
  redis.call('ZADD', key, -1, GEN_STAMP .. gen)
  redis.call('HSET', KEYS[2], 'v:' .. key, 1)
end
for i = 1, (#KEYS - 2) / 2 do
  local campaign_key = KEYS[1 + 2 * i]
  local org_key = KEYS[2 + 2 * i]
  local call_id = ARGV[2 + 2 * i]
  local expires_at_s = ARGV[3 + 2 * i]
  -- An expired call would be pruned by the next acquire anyway; skipping it
  -- keeps a dead call from ever being counted.
  if tonumber(expires_at_s) > now_s then
    redis.call('ZADD', campaign_key, 'GT', expires_at_s, call_id)
    redis.call('ZADD', org_key, 'GT', expires_at_s, call_id)
    stamp(campaign_key)
    stamp(org_key)
    added = added + 1
  end
end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[2], 'gen', gen, 'run_id', server_run_id())
  redis.call('RENAME', KEYS[2], KEYS[1])
end
return added
