-- Free one call's channel in its campaign and the organisation.
-- (workers/lua/lease_generation.lua is prepended.)
--
-- KEYS[1] campaign lease ZSET, KEYS[2] organisation lease ZSET, KEYS[3] ready marker
-- ARGV[1] call_id
--
-- A set that no longer matches the marker is left for the rebuild; releasing
-- twice, or a lease that expired, changes nothing.
local gen = current_generation(KEYS[3])
for i = 1, 2 do
  if redis.call('ZREM', KEYS[i], ARGV[1]) == 1 and gen then
    local version = set_version(KEYS[3], KEYS[i], gen)
    if version and version > 0 then
      bump(KEYS[3], KEYS[i], gen, version)
    end
  end
end
return 1
