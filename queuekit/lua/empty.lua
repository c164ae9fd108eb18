-- empty.lua: remove the jobs waiting in line and the delayed ones (retries in backoff too), of every type, with
-- their logs and attempt histories. Active and finished jobs are left alone.
--
-- KEYS[1]  the queue's job types          qk:{Q}:types   (set)
-- KEYS[2]  queue key prefix               qk:{Q}:        (each type's lines wait:<type> and delayed:<type>, each
--                                         job's hash job:<id>, log log:<id> and history errs:<id> are derived,
--                                         same hash tag)
-- ARGV[1]  events channel ("" = none): one 'remove' event per job
-- ARGV[2]  at most this many removals per call
--
-- Returns the number of jobs removed (fewer than ARGV[2]: nothing is left to remove).

local prefix = KEYS[2]
local limit = tonumber(ARGV[2])
local ev = events(ARGV[1])
local removed = 0
for _, jtype in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  for _, line in ipairs({prefix .. 'wait:' .. jtype, prefix .. 'delayed:' .. jtype}) do
    if removed >= limit then break end
    local ids = redis.call('ZRANGE', line, 0, limit - removed - 1)
    if #ids > 0 then
      local keys = {}
      for _, id in ipairs(ids) do
        keys[#keys + 1] = prefix .. 'job:' .. id
        keys[#keys + 1] = prefix .. 'log:' .. id
        keys[#keys + 1] = prefix .. 'errs:' .. id
        ev.add('remove', id, cjson.encode(jtype))
      end
      batched('DEL', nil, keys)
      batched('ZREM', line, ids)
      removed = removed + #ids
    end
  end
end
ev.flush()
return removed
