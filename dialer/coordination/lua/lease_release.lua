-- Free one call's channel in its campaign and its organisation.
-- (dialer/coordination/lua/lease_generation.lua is prepended.)
--
-- KEYS[1] campaign lease ZSET, KEYS[2] the organisation's lease ZSET, KEYS[3] ready marker
-- ARGV[1] call_id
--
-- A set that no longer matches the marker is left for the rebuild; releasing
-- twice, or a lease that expired, changes nothing. A set left with no lease is
-- removed with its version.
local gen = current_generation(KEYS[3])
for i = 1, 2 do
  if redis.call('ZREM', KEYS[i], ARGV[1]) == 1 and gen then
    local version = set_version(KEYS[3], KEYS[i], gen)
    if version and version > 0 then
      if leases_held(KEYS[i]) == 0 then
        -- A campaign's (or organisation's) last channel: drop its set and its
        -- version together (as if never written), so the marker and every
        -- is_ready() check stay as small as what is dialing now, not every
        -- campaign and organisation ever dialed.
        redis.call('DEL', KEYS[i])
        redis.call('HDEL', KEYS[3], 'v:' .. KEYS[i])
      else
        bump(KEYS[3], KEYS[i], gen, version)
      end
    end
  end
end
return 1
