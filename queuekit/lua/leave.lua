-- leave.lua: a stopping worker takes its name off the queue: its entry in the live-workers set, its description, its
-- stop list, its offer and its id in the idle lists. A job an add handed it that it never took from its inbox goes
-- back in line as if just added.
--
-- KEYS[1]  live workers (zset)            qk:{Q}:workers
-- KEYS[2]  the worker's description       qk:{Q}:worker:<worker id>
-- KEYS[3]  the worker's stop list         qk:{Q}:stop:<worker id>
-- KEYS[4]  the worker's offer             qk:{Q}:ready:<worker id>
-- KEYS[5]  the worker's inbox             qk:{Q}:inbox:<worker id>
-- KEYS[6]  queue key prefix               qk:{Q}:   (job hashes, lines and the active set derived, same hash tag)
-- KEYS[7..] idle:<type> (list) for each type the worker handles
-- ARGV[1]  worker id
--
-- Returns the ids of the jobs put back in line.

redis.call('ZREM', KEYS[1], ARGV[1])
-- the offer first: from here on no add hands this worker anything
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
for k = 7, #KEYS do redis.call('LREM', KEYS[k], 0, ARGV[1]) end
local out = {}
local item = redis.call('LPOP', KEYS[5])
while item do
  local id = return_handed(KEYS[6], handed(item))
  if id then out[#out + 1] = id end
  item = redis.call('LPOP', KEYS[5])
end
return out
