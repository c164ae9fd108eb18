-- extend.lua: renew the leases of jobs a worker is still running (its heartbeat).
--
-- KEYS[1]  active (zset: id -> lease deadline ms)
-- KEYS[2]  job key prefix                 qk:{Q}:job:
-- ARGV[1]  new deadline, ms
-- ARGV[2..] pairs: id, lease token
--
-- Returns {id, token, ...} for each lease that was lost (token changed or job gone): the worker drops their results.

local deadline = ARGV[1]
local lost = {}
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', KEYS[2] .. id, 'token') == token then
    redis.call('ZADD', KEYS[1], 'XX', deadline, id)
  else
    lost[#lost + 1] = id
    lost[#lost + 1] = token
  end
end
return lost
