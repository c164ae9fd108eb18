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
-- ARGV[3]  number of option groups G (jobs of a batch mostly share their options: they are sent once)
-- ARGV[4]  per-job layout: 3 = option group, custom id, data; 1 = data only (every job of the batch is in the
--          one group and takes the next counter value: the usual batch sends a third of the arguments)
-- then G groups, each: type index k (0-based), type, delay ms, priority (integer, lower runs first),
--          number of extra fields n, then n field/value pairs (attempts, backoff, ttl, ...)
-- then, per job, to the end of ARGV: its option group (1-based), custom id ("" = take the next counter value),
--          data (JSON); or, in layout 1, its data alone
--
-- Returns {first counter id taken (0 if none), then for each job whose custom id was already taken: its position
-- in the batch (1-based) and that job's state} (nothing is stored for those). Jobs without a custom id got the
-- counter's ids in batch order, from the first one on.

local now = tonumber(ARGV[1])
local channel = ARGV[2]
local ngroups = tonumber(ARGV[3])
local per_job = tonumber(ARGV[4])
local prefix = KEYS[4]

-- option groups, in parallel arrays
local g_k, g_type, g_delay, g_score, g_fields = {}, {}, {}, {}, {}
local i = 5
for g = 1, ngroups do
  local nextra = tonumber(ARGV[i + 4])
  local delay, priority = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local fields = {'type', ARGV[i + 1]}
  if priority ~= 0 then
    fields[3] = 'priority'
    fields[4] = ARGV[i + 3]
  end
  for f = i + 5, i + 4 + 2 * nextra do fields[#fields + 1] = ARGV[f] end
  g_k[g], g_type[g], g_delay[g], g_fields[g] = tonumber(ARGV[i]), ARGV[i + 1], delay, fields
  g_score[g] = wait_score(priority, 0)
  i = i + 5 + 2 * nextra
end

-- ids and arrival order for the whole batch in two counter calls
local first, last = i, #ARGV
local njobs = (last - first + 1) / per_job
local nauto = njobs
if per_job == 3 then
  nauto = 0
  for j = first + 1, last, 3 do
    if ARGV[j] == '' then nauto = nauto + 1 end
  end
end
local first_id = 0
if nauto > 0 then first_id = redis.call('INCRBY', KEYS[1], nauto) - nauto + 1 end
local next_id = first_id
local seq = redis.call('INCRBY', KEYS[2], njobs) - njobs

local lines = {}     -- wait or delayed key -> {score, id, score, id, ...}
local touched = {}   -- type index -> type, for the types that got a job
local stored = {}    -- group -> ids stored, for the events
local out = {first_id}
for j = first, last, per_job do
  local g, id, data = 1, '', ARGV[j]
  if per_job == 3 then g, id, data = tonumber(ARGV[j]), ARGV[j + 1], ARGV[j + 2] end
  local custom = id ~= ''
  seq = seq + 1
  if not custom then
    id = tostring(next_id)
    next_id = next_id + 1
  end
  local jkey = prefix .. id
  if custom and redis.call('EXISTS', jkey) == 1 then
    out[#out + 1] = (j - first) / per_job + 1
    out[#out + 1] = redis.call('HGET', jkey, 'state') or 'unknown'
  else
    -- created as ARGV[1], the text itself: a number would be turned into text again for every job. A waiting
    -- job's arrival order is in its score; only a delayed job keeps it in a field, for its promotion.
    local k = g_k[g]
    local key, score
    if g_delay[g] > 0 then
      redis.call('HSET', jkey, 'data', data, 'state', 'delayed', 'created', ARGV[1], 'seq', seq, unpack(g_fields[g]))
      key, score = KEYS[6 + 3 * k], now + g_delay[g]
    else
      redis.call('HSET', jkey, 'data', data, 'state', 'inactive', 'created', ARGV[1], unpack(g_fields[g]))
      key, score = KEYS[5 + 3 * k], g_score[g] + seq % 4294967296
    end
    local line = lines[key]
    if not line then
      line = {}
      lines[key] = line
      touched[k] = g_type[g]
    end
    line[#line + 1] = score
    line[#line + 1] = id
    local ids = stored[g]
    if not ids then
      ids = {}
      stored[g] = ids
    end
    ids[#ids + 1] = id
  end
end

for key, line in pairs(lines) do batched('ZADD', key, line) end
for k, jtype in pairs(touched) do
  redis.call('SADD', KEYS[3], jtype)
  wake(KEYS[7 + 3 * k])  -- a delayed job wakes a worker too: it learns the new due time
end
-- one event per group and 500 jobs, naming all their ids (ids are digits or checked custom ids: no escaping)
if channel ~= '' then
  for g, ids in pairs(stored) do
    local args = cjson.encode(g_type[g])
    for e = 1, #ids, 500 do
      redis.call('PUBLISH', channel, '[["enqueue",["' .. table.concat(ids, '","', e, math.min(#ids, e + 499)) ..
                                     '"],[' .. args .. ']]]')
    end
  end
end
return out
