-- Whether the lease store is ready: marker of this server, every set in step.
-- (dialer/coordination/lua/lease_generation.lua is prepended.)
--
-- KEYS[1] ready marker, KEYS[2..n] lease sets to check (the campaign and organisation
-- sets the marker knows of; none at all checks the marker alone)
-- Returns 1 when ready, 0 when a rebuild is needed.
local gen = current_generation(KEYS[1])
if not gen then
  return 0
end
for i = 2, #KEYS do
  if not set_version(KEYS[1], KEYS[i], gen) then
    return 0
  end
end
return 1
