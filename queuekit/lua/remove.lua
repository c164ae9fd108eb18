-- remove.lua: delete a job, whatever its state, with its log and attempt history.
--
-- KEYS[1]  queue key prefix               qk:{Q}:   (the job's hash job:<id>, log log:<id> and history errs:<id>,
--                                         the line holding it, the finished lines' indexes done:<type> and
--                                         dead:<type>, and the inbox of the worker an add handed it to are
--                                         derived, same hash tag)
-- ARGV[1]  job id
-- ARGV[2]  events channel ("" = none)
--
-- Returns 1 if the job existed, else 0.

local prefix = KEYS[1]
local id = ARGV[1]
local jkey = prefix .. 'job:' .. id
local st = redis.call('HMGET', jkey, 'type', 'state', 'worker')
local jtype = st[1]
if not jtype then return 0 end
if st[2] == 'active' and st[3] then
  take_from_inbox(prefix .. 'inbox:' .. st[3], id)  -- handed to an idle worker and not taken yet: it must not start
end
redis.call('ZREM', prefix .. 'wait:' .. jtype, id)
redis.call('ZREM', prefix .. 'delayed:' .. jtype, id)
redis.call('ZREM', prefix .. 'active', id)
redis.call('ZREM', prefix .. 'complete', id)
redis.call('ZREM', prefix .. 'failed', id)
redis.call('ZREM', prefix .. 'done:' .. jtype, id)
redis.call('ZREM', prefix .. 'dead:' .. jtype, id)
redis.call('DEL', jkey, prefix .. 'log:' .. id, prefix .. 'errs:' .. id)
announce(ARGV[2], 'remove', id, cjson.encode(jtype))
return 1
