-- Free one call's channel in its campaign and the organisation.
-- (dialer/coordination/lua/lease_generation.lua is prepended.)
--
-- KEYS[1] campaign lease ZSET, KEYS[2] organisation lease ZSET, KEYS[3] ready marker
-- ARGV[1] call_id
--
-- A set that no longer matches the marker is left for the rebuild; releasing
-- twice, or a lease that expired, changes nothing. A campaign set left with no
-- lease is removed with its version.
local gen = current_generation(KEYS[3])
for i = 1, 2 do
  if redis.call('ZREM', KEYS[i], ARGV[1]) == 1 and gen then
    local version = set_version(KEYS[3], KEYS[i], gen)
    if version and version > 0 then
      if i == 1 and leases_held(KEYS[1]) == 0 then
        -- A campaign's last channel: drop its set and its version together (as
        -- if never written), so the marker and every is_ready() check stay as
        -- small as the campaigns dialing now, not every campaign ever dialed.
        redis.call('DEL', KEYS[1])
        redis.call('HDEL', KEYS[3], 'v:' .. KEYS[1])
      else
        bump(KEYS[3], KEYS[i], gen, version)
      end
    end
  end
end
return 1
