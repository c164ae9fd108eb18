-- remove.lua: delete jobs, whatever their state, with their logs and attempt histories.
--
-- KEYS[1]  queue key prefix               qk:{Q}:   (each job's hash job:<id>, log log:<id> and history errs:<id>,
--                                         the line holding it, the finished lines' indexes done:<type> and
--                                         dead:<type>, a failed job's failure group fails:<hash> with failgroups
--                                         and failinfo, and the inbox of the worker an add handed it to are
--                                         derived, same hash tag)
-- ARGV[1]  events channel ("" = none)
-- ARGV[2..] job ids
--
-- Returns how many of the jobs existed (each is gone now).

local prefix = KEYS[1]
local ev = events(ARGV[1])
local removed = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local jkey = prefix .. 'job:' .. id
  local st = redis.call('HMGET', jkey, 'type', 'state', 'worker', 'error')
  local jtype = st[1]
  if jtype then
    if st[2] == 'active' and st[3] then
      take_from_inbox(prefix .. 'inbox:' .. st[3], id)  -- handed to an idle worker and not taken yet: must not start
    end
    redis.call('ZREM', prefix .. 'wait:' .. jtype, id)
    redis.call('ZREM', prefix .. 'delayed:' .. jtype, id)
    redis.call('ZREM', prefix .. 'active', id)
    redis.call('ZREM', prefix .. 'complete', id)
    redis.call('ZREM', prefix .. 'done:' .. jtype, id)
    if redis.call('ZREM', prefix .. 'failed', id) == 1 then ungroup_failure(prefix, id, st[4]) end
    redis.call('ZREM', prefix .. 'dead:' .. jtype, id)
    redis.call('DEL', jkey, prefix .. 'log:' .. id, prefix .. 'errs:' .. id)
    ev.add('remove', id, cjson.encode(jtype))
    removed = removed + 1
  end
end
ev.flush()
return removed
