-- remove.lua: delete a job, whatever its state, with its log and attempt history.
--
-- KEYS[1]  queue key prefix               qk:{Q}:   (the job's hash and the line holding it are derived, same hash tag)
-- ARGV[1]  job id
-- ARGV[2]  events channel ("" = none)
--
-- Returns 1 if the job existed, else 0.

local prefix = KEYS[1]
local id = ARGV[1]
local jkey = prefix .. 'job:' .. id
local jtype = redis.call('HGET', jkey, 'type')
if not jtype then return 0 end
redis.call('ZREM', prefix .. 'wait:' .. jtype, id)
redis.call('ZREM', prefix .. 'delayed:' .. jtype, id)
redis.call('ZREM', prefix .. 'active', id)
redis.call('ZREM', prefix .. 'complete', id)
redis.call('ZREM', prefix .. 'failed', id)
redis.call('DEL', jkey, jkey .. ':log', jkey .. ':errs')
announce(ARGV[2], 'remove', id, cjson.encode(jtype))
return 1
