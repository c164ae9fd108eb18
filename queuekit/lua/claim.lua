-- claim.lua: promote due delayed jobs, then move up to ARGV[2] waiting jobs into the active state under a lease.
--
-- KEYS[1]  active (zset: id -> lease deadline ms)
-- KEYS[2]  meta (hash: paused)
-- KEYS[3]  job key prefix                 qk:{Q}:job:
-- KEYS[4 + 3k], KEYS[5 + 3k], KEYS[6 + 3k]   wait:<type>, delayed:<type>, mark:<type> for each type the worker handles
-- ARGV[1]  now, ms
-- ARGV[2]  how many jobs to claim at most (0 = only promote)
-- ARGV[3]  lease, ms
-- ARGV[4]  worker id
-- ARGV[5]  lease token for the jobs claimed by this call
-- ARGV[6]  events channel ("" = none)
-- ARGV[7]  promote jobs due up to this time, ms (normally ARGV[1]; later in eager mode to skip backoff waits)
--
-- Returns one JSON array [next_due_ms or -1, paused 0/1, [[id1, fields1], [id2, fields2], ...]]
-- (fields as objects: one string to parse however many jobs and fields)
-- where next_due_ms is the earliest time a still-delayed job of these types becomes due.

local now = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local channel = ARGV[6]
local promote_until = tonumber(ARGV[7])
local prefix = KEYS[3]
local ntypes = (#KEYS - 3) / 3

-- 1. promotion: due delayed jobs go to the back of their priority band
for k = 0, ntypes - 1 do
  local wait_key, delayed_key = KEYS[4 + 3 * k], KEYS[5 + 3 * k]
  local due = redis.call('ZRANGEBYSCORE', delayed_key, '-inf', promote_until, 'LIMIT', 0, 1000)
  for _, id in ipairs(due) do
    redis.call('ZREM', delayed_key, id)
    local jkey = prefix .. id
    if redis.call('EXISTS', jkey) == 1 then
      local seq = redis.call('HINCRBY', jkey, 'seq', 0)
      local priority = tonumber(redis.call('HGET', jkey, 'priority') or '0')
      redis.call('ZADD', wait_key, wait_score(priority, seq), id)
      redis.call('HSET', jkey, 'state', 'inactive')
      announce(channel, 'promotion', id)
    end
  end
end

local next_due = -1
for k = 0, ntypes - 1 do
  local head = redis.call('ZRANGE', KEYS[5 + 3 * k], 0, 0, 'WITHSCORES')
  if head[2] then
    local t = tonumber(head[2])
    if next_due < 0 or t < next_due then next_due = t end
  end
end

local paused = redis.call('HGET', KEYS[2], 'paused') == '1'
local jobs = {}
if paused then return cjson.encode({next_due, 1, jobs}) end

-- 2. claim: repeatedly take the lowest score across the handled types
local claimed = 0
while claimed < want do
  local best_k, best_id, best_score = nil, nil, nil
  for k = 0, ntypes - 1 do
    local head = redis.call('ZRANGE', KEYS[4 + 3 * k], 0, 0, 'WITHSCORES')
    if head[1] and (best_score == nil or tonumber(head[2]) < best_score) then
      best_k, best_id, best_score = k, head[1], tonumber(head[2])
    end
  end
  if best_id == nil then break end
  redis.call('ZREM', KEYS[4 + 3 * best_k], best_id)
  local jkey = prefix .. best_id
  if redis.call('EXISTS', jkey) == 1 then
    -- `now` was read by the worker before this call travelled: never start a job before it was created
    local started = math.max(now, tonumber(redis.call('HGET', jkey, 'created') or now))
    redis.call('HSET', jkey, 'state', 'active', 'token', ARGV[5], 'worker', ARGV[4], 'started', started)
    redis.call('HINCRBY', jkey, 'made', 1)
    redis.call('ZADD', KEYS[1], now + lease, best_id)
    local flat = redis.call('HGETALL', jkey)
    local fields = {}
    for f = 1, #flat, 2 do fields[flat[f]] = flat[f + 1] end
    jobs[#jobs + 1] = {best_id, fields}
    claimed = claimed + 1
    announce(channel, 'start', best_id, cjson.encode(fields['type']))
  end
end

-- 3. keep the chain of wake-ups going while work remains for other workers
for k = 0, ntypes - 1 do
  if redis.call('ZCARD', KEYS[4 + 3 * k]) > 0 then wake(KEYS[6 + 3 * k]) end
end
return cjson.encode({next_due, 0, jobs})
