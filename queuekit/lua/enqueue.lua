-- enqueue.lua: store one or more new jobs and put each in line (waiting, or delayed until its time).
-- All keys share the queue's hash tag, so the script runs in one Redis Cluster slot.
--
-- KEYS[1]  id counter (string)            qk:{Q}:id
-- KEYS[2]  sequence counter (string)      qk:{Q}:seq     orders jobs of equal priority (FIFO)
-- KEYS[3]  types (set)                    qk:{Q}:types
-- KEYS[4]  job key prefix                 qk:{Q}:job:    job hashes are <prefix><id>
-- KEYS[5 + 3k], KEYS[6 + 3k], KEYS[7 + 3k]   wait:<type> (zset), delayed:<type> (zset), mark:<type> (list)
--                                         one triple per distinct type of the batch, k = 0, 1, ...
-- ARGV[1]  now, ms since the epoch
-- ARGV[2]  events channel ("" = publish no events)
-- ARGV[3]  number of jobs in the batch
-- then, per job, a group:
--   custom id ("" = take the next counter value), type index k (0-based), type, data (JSON),
--   delay ms, priority (integer, lower runs first), number of extra fields n, then n field/value pairs
--
-- Returns, per job: id, 1 if created or 0 if a job with that custom id already existed, and the job's state.

local now = tonumber(ARGV[1])
local channel = ARGV[2]
local count = tonumber(ARGV[3])
local prefix = KEYS[4]
local out = {}
local i = 4

for _ = 1, count do
  local custom, k, jtype, data = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
  local delay, priority, nextra = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
  local extra_start = i + 7
  i = extra_start + 2 * nextra
  local wait_key, delayed_key, mark_key = KEYS[5 + 3 * k], KEYS[6 + 3 * k], KEYS[7 + 3 * k]

  local id = custom
  if id == "" then
    id = tostring(redis.call('INCR', KEYS[1]))
  end
  local jkey = prefix .. id
  if custom ~= "" and redis.call('EXISTS', jkey) == 1 then
    out[#out + 1] = id
    out[#out + 1] = 0
    out[#out + 1] = redis.call('HGET', jkey, 'state') or 'unknown'
  else
    local seq = redis.call('INCR', KEYS[2])
    local state = 'inactive'
    if delay > 0 then state = 'delayed' end
    local fields = {'type', jtype, 'data', data, 'state', state, 'created', now, 'seq', seq}
    if priority ~= 0 then
      fields[#fields + 1] = 'priority'
      fields[#fields + 1] = priority
    end
    for f = extra_start, extra_start + 2 * nextra - 1 do
      fields[#fields + 1] = ARGV[f]
    end
    redis.call('HSET', jkey, unpack(fields))
    redis.call('SADD', KEYS[3], jtype)
    if delay > 0 then
      redis.call('ZADD', delayed_key, now + delay, id)
    else
      redis.call('ZADD', wait_key, wait_score(priority, seq), id)
    end
    wake(mark_key)
    announce(channel, 'enqueue', id, cjson.encode(jtype))
    out[#out + 1] = id
    out[#out + 1] = 1
    out[#out + 1] = state
  end
end
return out
