-- Record one finished call in a campaign's circuit-breaker window and count it.
--
-- KEYS[1] LIST of recent outcomes, newest first: '1:<call_id>' failed, '0:<call_id>' ok
-- ARGV[1] call_id
-- ARGV[2] '1' failed / '0' ok (the caller decides what is a failure)
-- ARGV[3] window (number of most recent calls kept and counted, >= 1)
--
-- Returns {total, failures} over the window, counted inside the script so no
-- other record can slip in between the push and the count.
local call_id = ARGV[1]
local window = tonumber(ARGV[3])

-- A replayed result for a call still in the window must not count twice.
local seen = redis.call('LPOS', KEYS[1], '0:' .. call_id)
  or redis.call('LPOS', KEYS[1], '1:' .. call_id)
if not seen then
  redis.call('LPUSH', KEYS[1], ARGV[2] .. ':' .. call_id)
end
redis.call('LTRIM', KEYS[1], 0, window - 1)

local entries = redis.call('LRANGE', KEYS[1], 0, window - 1)
local failures = 0
for _, entry in ipairs(entries) do
  if string.sub(entry, 1, 1) == '1' then
    failures = failures + 1
  end
end
return {#entries, failures}
