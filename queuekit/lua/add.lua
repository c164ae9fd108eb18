-- add.lua: store one new job and put it in line (waiting, or delayed until its time), in the fewest Lua steps.
-- The one-job form of enqueue.lua: a producer adding jobs one at a time waits for this script on every add.
--
-- KEYS[1]  id counter (string)            qk:{Q}:id
-- KEYS[2]  sequence counter (string)      qk:{Q}:seq
-- KEYS[3]  types (set)                    qk:{Q}:types
-- KEYS[4]  job key prefix                 qk:{Q}:job:
-- KEYS[5]  wait:<type> (zset)   KEYS[6]  delayed:<type> (zset)   KEYS[7]  mark:<type> (list)
-- ARGV[1]  now, ms since the epoch
-- ARGV[2]  events channel ("" = publish no events)
-- ARGV[3]  type
-- ARGV[4]  custom id ("" = take the next counter value)
-- ARGV[5]  data (JSON)
-- ARGV[6]  delay ms
-- ARGV[7]  priority (integer, lower runs first)
-- ARGV[8..] the job's other fields as field/value pairs (priority, attempts, backoff, ttl, ...)
--
-- Returns {id, ""} when the job was stored, or {id, state} of the job that already had that custom id (nothing
-- is stored then).

local id = ARGV[4]
if id == '' then
  id = tostring(redis.call('INCR', KEYS[1]))
elseif redis.call('EXISTS', KEYS[4] .. id) == 1 then
  return {id, redis.call('HGET', KEYS[4] .. id, 'state') or 'unknown'}
end
local seq = redis.call('INCR', KEYS[2])
local delay = tonumber(ARGV[6])
-- a waiting job's arrival order is in its score; only a delayed job keeps it in a field, for its promotion
if delay > 0 then
  redis.call('HSET', KEYS[4] .. id, 'type', ARGV[3], 'data', ARGV[5], 'state', 'delayed', 'created', ARGV[1],
             'seq', seq, unpack(ARGV, 8))
  redis.call('ZADD', KEYS[6], tonumber(ARGV[1]) + delay, id)
else
  redis.call('HSET', KEYS[4] .. id, 'type', ARGV[3], 'data', ARGV[5], 'state', 'inactive', 'created', ARGV[1],
             unpack(ARGV, 8))
  redis.call('ZADD', KEYS[5], wait_score(tonumber(ARGV[7]), seq), id)
end
redis.call('SADD', KEYS[3], ARGV[3])
wake(KEYS[7])  -- a delayed job wakes a worker too: it learns the new due time
announce(ARGV[2], 'enqueue', id, cjson.encode(ARGV[3]))
return {id, ''}
