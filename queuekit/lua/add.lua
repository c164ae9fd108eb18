-- add.lua: store one new job and put it in line (waiting, or delayed until its time), in the fewest Lua steps; or
-- hand it straight to an idle worker. The one-job form of enqueue.lua: a producer adding jobs one at a time waits
-- for this script on every add.
--
-- KEYS[1]  id counter (string)            qk:{Q}:id
-- KEYS[2]  sequence counter (string)      qk:{Q}:seq
-- KEYS[3]  types (set)                    qk:{Q}:types
-- KEYS[4]  job key prefix                 qk:{Q}:job:
-- KEYS[5]  wait:<type> (zset)   KEYS[6]  delayed:<type> (zset)   KEYS[7]  mark:<type> (list)
-- KEYS[8]  idle:<type> (list)             ids of idle workers waiting for a job of this type
-- KEYS[9]  active (zset: id -> lease deadline ms)
-- KEYS[10] meta (hash: paused)
-- KEYS[11] queue key prefix               qk:{Q}:   a worker's ready:<worker> and inbox:<worker> are derived
--                                         (same hash tag: the script stays in the queue's slot)
-- ARGV[1]  events channel ("" = publish no events)
-- ARGV[2]  type
-- ARGV[3]  now, ms since the epoch
-- ARGV[4]  data (JSON)
-- (channel and type first: the part of the request a producer sends unchanged on every add of one type, which
-- connection.Request packs once)
-- ARGV[5..] only for a job with a custom id or options other than the defaults (a plain add sends four
--           arguments: each one costs Redis about as much as a small command):
-- ARGV[5]  custom id ("" = take the next counter value)
-- ARGV[6]  delay ms
-- ARGV[7]  priority (integer, lower runs first)
-- ARGV[8..] the job's other fields as field/value pairs (priority, attempts, backoff, ttl, ...)
--
-- Returns the id alone when the job was stored in line, {id, "", "active"} when it was handed to an idle worker,
-- or {id, state} of the job that already had that custom id (nothing is stored then).

local id = ARGV[5] or ''
if id == '' then
  id = tostring(redis.call('INCR', KEYS[1]))
elseif redis.call('EXISTS', KEYS[4] .. id) == 1 then
  return {id, redis.call('HGET', KEYS[4] .. id, 'state') or 'unknown'}
end
local delay = tonumber(ARGV[6]) or 0

-- An idle worker of this type takes the job at once. Its last claim found nothing, so it left an offer in
-- ready:<worker> ("<lease ms> <token>", expiring) and its id in idle:<type>, and it now blocks on its inbox. The add
-- does the claim's work (the job starts active, under that worker's lease and token) and the worker's blocking pop
-- returns the job itself: no claim script runs between the add and the handler. Only for a job that runs now, when
-- no job is ahead of it in line and the queue is not paused; ids whose offer is gone (the worker took a job, or
-- stopped, or died and its offer expired) are passed over.
if delay == 0 then
  local worker = redis.call('LPOP', KEYS[8])
  if worker and (redis.call('ZCARD', KEYS[5]) > 0 or redis.call('HGET', KEYS[10], 'paused') == '1') then
    redis.call('LPUSH', KEYS[8], worker)  -- still idle: the wake-up below brings it to the line
    worker = nil
  end
  for _ = 1, 8 do
    if not worker then break end
    local offer = redis.call('GETDEL', KEYS[11] .. 'ready:' .. worker)
    if offer then
      local lease, token = string.match(offer, '^(%d+) (.+)$')
      local fields = {type = ARGV[2], data = ARGV[4], state = 'active', created = ARGV[3], token = token,
                      worker = worker, started = ARGV[3], made = '1'}
      for f = 8, #ARGV, 2 do fields[ARGV[f]] = ARGV[f + 1] end
      -- the same fields again, spelled out: building this list from the table above costs 5,000 instructions
      redis.call('HSET', KEYS[4] .. id, 'type', ARGV[2], 'data', ARGV[4], 'state', 'active', 'created', ARGV[3],
                 'token', token, 'worker', worker, 'started', ARGV[3], 'made', 1, unpack(ARGV, 8))
      redis.call('ZADD', KEYS[9], tonumber(ARGV[3]) + tonumber(lease), id)
      redis.call('RPUSH', KEYS[11] .. 'inbox:' .. worker, cjson.encode({id, fields}))
      redis.call('SADD', KEYS[3], ARGV[2])
      if ARGV[1] ~= '' then
        local ev = cjson.encode(id) .. ',[' .. cjson.encode(ARGV[2]) .. ']]'
        redis.call('PUBLISH', ARGV[1], '[["enqueue",' .. ev .. ',["start",' .. ev .. ']')
      end
      return {id, '', 'active'}
    end
    worker = redis.call('LPOP', KEYS[8])
  end
end

local seq = redis.call('INCR', KEYS[2])
-- a waiting job's arrival order is in its score; only a delayed job keeps it in a field, for its promotion
if delay > 0 then
  redis.call('HSET', KEYS[4] .. id, 'type', ARGV[2], 'data', ARGV[4], 'state', 'delayed', 'created', ARGV[3],
             'seq', seq, unpack(ARGV, 8))
  redis.call('ZADD', KEYS[6], tonumber(ARGV[3]) + delay, id)
else
  redis.call('HSET', KEYS[4] .. id, 'type', ARGV[2], 'data', ARGV[4], 'state', 'inactive', 'created', ARGV[3],
             unpack(ARGV, 8))
  redis.call('ZADD', KEYS[5], wait_score(tonumber(ARGV[7]) or 0, seq), id)
end
redis.call('SADD', KEYS[3], ARGV[2])
wake(KEYS[7])  -- a delayed job wakes a worker too: it learns the new due time
announce(ARGV[1], 'enqueue', id, cjson.encode(ARGV[2]))
return id  -- a bare string: a table reply costs Redis more than the ZADD above
