-- priority.lua: change a job's priority. A waiting job moves to its new band in line, keeping its arrival order
-- (the low 32 bits of its score, see wait_score), so jobs of one band still run first in, first out. A delayed
-- job takes the new priority into line when it is promoted; in any other state only the field changes.
--
-- KEYS[1]  queue key prefix               qk:{Q}:   (the job's hash job:<id> and its line wait:<type> are derived,
--                                         same hash tag)
-- ARGV[1]  job id
-- ARGV[2]  priority (integer, lower runs first; validated by the caller)
--
-- Returns 1 if the job exists, else 0.

local prefix = KEYS[1]
local id = ARGV[1]
local priority = tonumber(ARGV[2])
local jkey = prefix .. 'job:' .. id
local st = redis.call('HMGET', jkey, 'state', 'type')
if not st[2] then return 0 end
redis.call('HSET', jkey, 'priority', priority)
if st[1] == 'inactive' then
  local line = prefix .. 'wait:' .. st[2]
  local score = redis.call('ZSCORE', line, id)
  if score then
    redis.call('ZADD', line, wait_score(priority, tonumber(score) % 4294967296), id)
  end
end
return 1
