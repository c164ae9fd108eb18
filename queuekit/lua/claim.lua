-- claim.lua: promote due delayed jobs, then move up to ARGV[2] waiting jobs into the active state under a lease.
-- A worker's listener also collects what adds handed it (its inbox) and, finding nothing, offers to take the next
-- job straight from an add (see add.lua).
--
-- KEYS[1]  active (zset: id -> lease deadline ms)
-- KEYS[2]  meta (hash: paused)
-- KEYS[3]  job key prefix                 qk:{Q}:job:
-- KEYS[4]  the worker's stop list         qk:{Q}:stop:<worker id>   not empty: claim nothing (the worker is
--                                         stopping; it pushed there to end its own blocking wait), and empty it
-- KEYS[5]  the worker's offer             qk:{Q}:ready:<worker id>  (string "<lease ms> <token>", expires)
-- KEYS[6]  the worker's inbox             qk:{Q}:inbox:<worker id>  (list of handed jobs, JSON [id, fields])
-- KEYS[7 + 4k], KEYS[8 + 4k], KEYS[9 + 4k], KEYS[10 + 4k]   wait:<type>, delayed:<type>, mark:<type>, idle:<type>
--                                         for each type the worker handles
-- ARGV[1]  now, ms
-- ARGV[2]  how many jobs to claim at most (0 = only promote)
-- ARGV[3]  lease, ms
-- ARGV[4]  worker id
-- ARGV[5]  lease token for the jobs claimed by this call
-- ARGV[6]  events channel ("" = none)
-- ARGV[7]  promote jobs due up to this time, ms (normally ARGV[1]; later in eager mode to skip backoff waits)
-- ARGV[8]  offer, ms: 0 for a claim that leaves the offer alone; otherwise (the listener's claims) the inbox is
--          taken first, and when nothing at all is claimed the worker offers to take the next job, for this long
--          (ARGV[5] becomes that job's token); when something is, an offer still standing is withdrawn
--
-- Returns one JSON array [next_due_ms or -1, paused 0/1, [[id1, fields1], [id2, fields2], ...]]
-- (fields as objects, each with the job's lease token: one string to parse however many jobs and fields)
-- where next_due_ms is the earliest time a still-delayed job of these types becomes due.

local now = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local promote_until = tonumber(ARGV[7])
local prefix = KEYS[3]
local ntypes = (#KEYS - 6) / 4
local offering = ARGV[8] ~= '0'
local ev = events(ARGV[6])

-- 1. promotion: due delayed jobs go to the back of their priority band; the head of each delayed line also gives
-- the next due time (read first: most calls find nothing due and stop there)
local next_due = -1
for k = 0, ntypes - 1 do
  local wait_key, delayed_key = KEYS[7 + 4 * k], KEYS[8 + 4 * k]
  local head = redis.call('ZRANGE', delayed_key, 0, 0, 'WITHSCORES')
  if head[2] and tonumber(head[2]) <= promote_until then
    local due = redis.call('ZRANGEBYSCORE', delayed_key, '-inf', promote_until, 'LIMIT', 0, 1000)
    redis.call('ZREM', delayed_key, unpack(due))
    local line = {}
    for _, id in ipairs(due) do
      local jkey = prefix .. id
      local f = redis.call('HMGET', jkey, 'type', 'seq', 'priority')
      if f[1] then
        -- seq: the job's arrival order, kept by a delayed job; a retry in backoff has none (its order was in its
        -- old score) and goes to the front of its band: it has been waiting since its first arrival
        line[#line + 1] = wait_score(tonumber(f[3]) or 0, tonumber(f[2]) or 0)
        line[#line + 1] = id
        redis.call('HSET', jkey, 'state', 'inactive')
        ev.add('promotion', id)
      end
    end
    batched('ZADD', wait_key, line)
    head = redis.call('ZRANGE', delayed_key, 0, 0, 'WITHSCORES')
  end
  if head[2] then
    local t = tonumber(head[2])
    if next_due < 0 or t < next_due then next_due = t end
  end
end

if want > 0 and redis.call('LLEN', KEYS[4]) > 0 then
  redis.call('DEL', KEYS[4])
  want = 0
end
local paused = redis.call('HGET', KEYS[2], 'paused') == '1'
local jobs = {}
if paused then
  ev.flush()
  return cjson.encode({next_due, 1, jobs})
end

-- 2. jobs adds handed to this worker while its offer stood: already active under their own lease and token
if offering then
  while #jobs < want do
    local item = redis.call('LPOP', KEYS[6])
    if not item then break end
    jobs[#jobs + 1] = handed(item)  -- nil (skipped) for an entry that is not one; the sweep recovers its job
  end
  want = want - #jobs
end

-- 3. take the `want` lowest scores across the handled types
local ids = {}
local drained = false  -- true when the lines are known to be empty now (no wake-up to pass on)
if want > 0 and ntypes == 1 then
  local popped = redis.call('ZPOPMIN', KEYS[7], want)
  for p = 1, #popped, 2 do ids[#ids + 1] = popped[p] end
  drained = #ids < want
elseif want > 0 then
  local heads = {}
  for k = 0, ntypes - 1 do
    local head = redis.call('ZRANGE', KEYS[7 + 4 * k], 0, want - 1, 'WITHSCORES')
    for p = 1, #head, 2 do heads[#heads + 1] = {tonumber(head[p + 1]), k, head[p]} end
  end
  table.sort(heads, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  local taken = {}
  for n = 1, math.min(want, #heads) do
    local k, id = heads[n][2], heads[n][3]
    ids[#ids + 1] = id
    taken[k] = taken[k] or {}
    taken[k][#taken[k] + 1] = id
  end
  for k, line in pairs(taken) do redis.call('ZREM', KEYS[7 + 4 * k], unpack(line)) end
end

-- 4. each job becomes active under this call's lease token
local active = {}
for _, id in ipairs(ids) do
  local jkey = prefix .. id
  local flat = redis.call('HGETALL', jkey)
  if #flat > 0 then  -- a job removed while it waited is simply gone
    local fields = {}
    for f = 1, #flat, 2 do fields[flat[f]] = flat[f + 1] end
    -- `now` was read by the worker before this call travelled: never start a job before it was created
    local started = math.max(now, tonumber(fields['created']) or now)
    local made = (tonumber(fields['made']) or 0) + 1
    fields['state'], fields['token'], fields['worker'] = 'active', ARGV[5], ARGV[4]
    fields['started'], fields['made'] = tostring(started), tostring(made)
    redis.call('HSET', jkey, 'state', 'active', 'token', ARGV[5], 'worker', ARGV[4], 'started', started,
               'made', made)
    active[#active + 1] = now + lease
    active[#active + 1] = id
    jobs[#jobs + 1] = {id, fields}
    ev.add('start', id, cjson.encode(fields['type']))
  end
end
batched('ZADD', KEYS[1], active)

-- 5. keep the chain of wake-ups going while work remains for other workers
if not drained then
  for k = 0, ntypes - 1 do
    if redis.call('ZCARD', KEYS[7 + 4 * k]) > 0 then wake(KEYS[9 + 4 * k]) end
  end
end

-- 6. the listener's offer: standing while it waits with nothing to do, withdrawn as soon as it has work. Its id is
-- in each type's idle list once (an add pops it there and takes the offer with GETDEL; ids left behind in the
-- other types' lists are passed over as stale, until this worker offers again and puts them back in place).
if offering then
  if #jobs == 0 and want > 0 then
    redis.call('SET', KEYS[5], ARGV[3] .. ' ' .. ARGV[5], 'PX', ARGV[8])
    for k = 0, ntypes - 1 do
      redis.call('LREM', KEYS[10 + 4 * k], 0, ARGV[4])
      redis.call('RPUSH', KEYS[10 + 4 * k], ARGV[4])
    end
  else
    redis.call('DEL', KEYS[5])
  end
end
ev.flush()
return cjson.encode({next_due, 0, jobs})
