-- move.lua: Kue's change of state, by an operator: take a job out of its line and put it in another.
--   inactive  back in line with a fresh set of attempts, as retry.lua does (from delayed, complete or failed)
--   complete  finished now, in the complete line and its type's index done:<type>
--   failed    finished now with the error ARGV[4], in the failed line, its type's index dead:<type> and its failure
--             group (see group_failure)
-- An active job is never moved: its worker holds a lease on it. A job already in the state asked for is left as it
-- is. The caller refuses the states a job cannot be moved to (active, delayed) before calling.
--
-- KEYS[1]  queue key prefix               qk:{Q}:   (the job's hash job:<id>, its lines wait:<type>,
--                                         delayed:<type>, complete and failed, their indexes done:<type> and
--                                         dead:<type>, failure groups fails:<hash>, failgroups and failinfo and the
--                                         wake-up mark:<type> are derived, same hash tag)
-- ARGV[1]  job id
-- ARGV[2]  the state to move it to: "inactive", "complete" or "failed"
-- ARGV[3]  now, ms
-- ARGV[4]  the error of a job moved to failed
-- ARGV[5]  events channel ("" = none)
--
-- Returns 1 if the job is now in that state, 0 if there is no such job, -1 if it is active (nothing changed).

local prefix = KEYS[1]
local id, target, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local jkey = prefix .. 'job:' .. id
local st = redis.call('HMGET', jkey, 'state', 'type', 'error')
local state, jtype = st[1], st[2]
if not jtype then return 0 end
if state == 'active' then return -1 end
if state == target then return 1 end

-- out of the line it is in
if state == 'inactive' then
  redis.call('ZREM', prefix .. 'wait:' .. jtype, id)
elseif state == 'delayed' then
  redis.call('ZREM', prefix .. 'delayed:' .. jtype, id)
elseif state == 'complete' then
  redis.call('ZREM', prefix .. 'complete', id)
  redis.call('ZREM', prefix .. 'done:' .. jtype, id)
elseif state == 'failed' then
  redis.call('ZREM', prefix .. 'failed', id)
  redis.call('ZREM', prefix .. 'dead:' .. jtype, id)
  ungroup_failure(prefix, id, st[3])
end

-- into the one asked for
if target == 'inactive' then
  redis.call('HSET', jkey, 'fails', 0, 'stalls', 0)
  redis.call('HDEL', jkey, 'error', 'finished')
  back_in_line(prefix, jkey, id, jtype)
  announce(ARGV[5], 'enqueue', id, cjson.encode(jtype))
elseif target == 'complete' then
  redis.call('HSET', jkey, 'state', 'complete', 'finished', now, 'percent', 100)
  redis.call('HDEL', jkey, 'error')
  redis.call('ZADD', prefix .. 'complete', now, id)
  redis.call('ZADD', prefix .. 'done:' .. jtype, now, id)
  announce(ARGV[5], 'complete', id, 'null')
else
  redis.call('HSET', jkey, 'state', 'failed', 'finished', now, 'error', ARGV[4])
  redis.call('ZADD', prefix .. 'failed', now, id)
  redis.call('ZADD', prefix .. 'dead:' .. jtype, now, id)
  group_failure(prefix, id, jtype, ARGV[4], now)
  announce(ARGV[5], 'failed', id, cjson.encode(ARGV[4]))
end
return 1
