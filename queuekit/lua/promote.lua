-- promote.lua: put a delayed job in line now, as claim.lua promotes a delayed job once it is due (its arrival
-- order, kept in its seq field, places it in its priority band; a retry in backoff has none and goes to the front).
--
-- KEYS[1]  queue key prefix               qk:{Q}:   (the job's hash job:<id>, its lines delayed:<type> and
--                                         wait:<type> and the wake-up mark:<type> are derived, same hash tag)
-- ARGV[1]  job id
-- ARGV[2]  events channel ("" = none)
--
-- Returns 1 if the job was delayed and now waits in line, else 0 (not delayed, or no such job).

local prefix = KEYS[1]
local id = ARGV[1]
local jkey = prefix .. 'job:' .. id
local st = redis.call('HMGET', jkey, 'state', 'type', 'seq', 'priority')
local jtype = st[2]
if st[1] ~= 'delayed' or not jtype then return 0 end
if redis.call('ZREM', prefix .. 'delayed:' .. jtype, id) == 0 then return 0 end
redis.call('ZADD', prefix .. 'wait:' .. jtype, wait_score(tonumber(st[4]) or 0, tonumber(st[3]) or 0), id)
redis.call('HSET', jkey, 'state', 'inactive')
wake(prefix .. 'mark:' .. jtype)
announce(ARGV[2], 'promotion', id)
return 1
