-- clean.lua: remove finished jobs (complete or failed) by age and/or by keeping only the newest ones.
--
-- KEYS[1]  the finished line to clean: complete or failed (zset: id -> finished ms)
-- KEYS[2]  queue key prefix               qk:{Q}:   (each job's hash job:<id>, log log:<id> and attempt history
--                                         errs:<id> are derived, same hash tag; so is the index by type each
--                                         removed job leaves, done:<type> for the complete line, dead:<type> for
--                                         the failed one: its type is read from its hash before it is deleted;
--                                         and a failed job's failure group fails:<hash>, failgroups, failinfo)
-- ARGV[1]  now, ms
-- ARGV[2]  keep at most this many (-1 = no limit)
-- ARGV[3]  remove those finished more than this many ms ago (-1 = any age)
-- ARGV[4]  at most this many removals per call
--
-- Returns the number of jobs removed.

local now = tonumber(ARGV[1])
local keep, age, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local removed = 0
local failed = KEYS[1] == KEYS[2] .. 'failed'
local function index_of(jtype)
  if failed then return KEYS[2] .. 'dead:' .. jtype end
  return KEYS[2] .. 'done:' .. jtype
end
local function drop(ids)
  if #ids == 0 then return end
  local keys, by_type = {}, {}
  for _, id in ipairs(ids) do
    local st = redis.call('HMGET', KEYS[2] .. 'job:' .. id, 'type', 'error')
    local jtype = st[1]
    if failed then ungroup_failure(KEYS[2], id, st[2]) end
    if jtype then
      local index = by_type[jtype]
      if not index then
        index = {}
        by_type[jtype] = index
      end
      index[#index + 1] = id
    end
    keys[#keys + 1] = KEYS[2] .. 'job:' .. id
    keys[#keys + 1] = KEYS[2] .. 'log:' .. id
    keys[#keys + 1] = KEYS[2] .. 'errs:' .. id
  end
  batched('DEL', nil, keys, 999)
  batched('ZREM', KEYS[1], ids)
  for jtype, index in pairs(by_type) do batched('ZREM', index_of(jtype), index) end
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
