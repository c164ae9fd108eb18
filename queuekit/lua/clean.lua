-- clean.lua: remove finished jobs (complete or failed) by age and/or by keeping only the newest ones.
--
-- KEYS[1]  the finished line to clean: complete or failed (zset: id -> finished ms)
-- KEYS[2]  queue key prefix               qk:{Q}:   (each job's hash job:<id>, log log:<id> and attempt history
--                                         errs:<id> are derived, same hash tag)
-- ARGV[1]  now, ms
-- ARGV[2]  keep at most this many (-1 = no limit)
-- ARGV[3]  remove those finished more than this many ms ago (-1 = any age)
-- ARGV[4]  at most this many removals per call
--
-- Returns the number of jobs removed.

local now = tonumber(ARGV[1])
local keep, age, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local removed = 0
local function drop(ids)
  if #ids == 0 then return end
  local keys = {}
  for _, id in ipairs(ids) do
    keys[#keys + 1] = KEYS[2] .. 'job:' .. id
    keys[#keys + 1] = KEYS[2] .. 'log:' .. id
    keys[#keys + 1] = KEYS[2] .. 'errs:' .. id
  end
  batched('DEL', nil, keys, 999)
  batched('ZREM', KEYS[1], ids)
  removed = removed + #ids
end
if age >= 0 then
  drop(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - age, 'LIMIT', 0, limit))
end
if keep >= 0 and removed < limit then
  local excess = redis.call('ZCARD', KEYS[1]) - keep
  if excess > limit - removed then excess = limit - removed end
  if excess > 0 then drop(redis.call('ZRANGE', KEYS[1], 0, excess - 1)) end
end
return removed
