-- progress.lua: store a running job's progress and announce it, for the worker that holds the lease.
--
-- KEYS[1]  the job hash                   qk:{Q}:job:<id>
-- ARGV[1]  lease token ("" = skip the check: a job run outside a worker, e.g. eager mode)
-- ARGV[2]  percent, 0-100
-- ARGV[3]  progress data as JSON ("" = none)
-- ARGV[4]  events channel ("" = none)
-- ARGV[5]  job id
--
-- Returns 1 when stored, 0 when the lease was lost.

local jkey = KEYS[1]
if ARGV[1] ~= '' and redis.call('HGET', jkey, 'token') ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  redis.call('HSET', jkey, 'percent', ARGV[2])
  redis.call('HDEL', jkey, 'pdata')
else
  redis.call('HSET', jkey, 'percent', ARGV[2], 'pdata', ARGV[3])
end
local data = ARGV[3]
if data == '' then data = 'null' end
announce(ARGV[4], 'progress', ARGV[5], ARGV[2] .. ',' .. data)
return 1
