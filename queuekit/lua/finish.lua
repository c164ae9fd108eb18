-- finish.lua: record the outcome of one or more active jobs, for the worker that holds their lease.
-- A job whose token no longer matches (its lease expired and another worker took it) is left untouched.
--
-- KEYS[1]  active (zset)
-- KEYS[2]  complete (zset: id -> finished ms)
-- KEYS[3]  failed (zset: id -> finished ms)
-- KEYS[4]  queue key prefix               qk:{Q}:   job hashes are <prefix>job:<id>, their attempt histories
--                                         <prefix>errs:<id> and logs <prefix>log:<id>, lines <prefix>wait:<type> ...
--                                         (derived keys share the hash tag, so the script stays in one slot)
-- ARGV[1]  now, ms (for outcomes that do not say when they happened)
-- ARGV[2]  events channel ("" = none)
-- ARGV[3]  the outcomes as a JSON array of [id, lease token, kind, value, traceback, retry delay ms, started ms,
--          finished ms]:
--          kind "ok": value = result as JSON
--          kind "fail": value = error message; retried after the delay while failures < attempts
--          kind "fatal": like fail, never retried (a corrupt job, an unknown type)
--          kind "release": put back in line without counting a failure (shutdown deadline reached)
--          started ms: when the handler really started (0 = never started, or as claimed); a job a worker
--          held before starting it was marked started when claimed
--          finished ms: when the handler ended (the report may travel a few ms later, batched with others); the
--          job's finish time, and the start of a retry's delay
--          (one JSON argument rather than seven per job: far less to encode and parse on both sides)
--
-- Each job that ends complete or failed is also added to its type's index, <prefix>done:<type> or
-- <prefix>dead:<type> (same score as in the line), which counts and pages by type read: one ZADD per type a batch.
-- A job failed for good also joins its failure group (<prefix>fails:<hash>, failgroups, failinfo: group_failure).
--
-- Retention (how many finished jobs are kept) is applied separately by clean.lua.
--
-- Returns, per outcome: 1 if applied, 0 if the lease was lost (or the job is gone).

local reported = tonumber(ARGV[1])
local now = reported  -- the time of the outcome being applied (set per outcome below)
local prefix = KEYS[4]
local outcomes = cjson.decode(ARGV[3])
local ev = events(ARGV[2])
local out = {}
local left, completed = {}, {}
local by_type = {}  -- type -> {score, id, ...} of the jobs completed in this batch

local function requeue(jkey, id, jtype, delay)
  if delay > 0 then
    redis.call('ZADD', prefix .. 'delayed:' .. jtype, now + delay, id)
    redis.call('HSET', jkey, 'state', 'delayed')
    wake(prefix .. 'mark:' .. jtype)  -- a worker learns the new due time and wakes for it
  else
    back_in_line(prefix, jkey, id, jtype)
  end
end

local function record_attempt(jkey, id, kind, message, trace)
  local made = tonumber(redis.call('HGET', jkey, 'made') or '0')
  local errs = prefix .. 'errs:' .. id
  redis.call('RPUSH', errs, cjson.encode({attempt = made, kind = kind, error = message, traceback = trace, at = now}))
  redis.call('LTRIM', errs, -50, -1)
  return made
end

for _, o in ipairs(outcomes) do
  local id, token, kind, value, trace = o[1], o[2], o[3], o[4], o[5]
  local retry_delay = tonumber(o[6])
  local started = tonumber(o[7] or 0)
  now = tonumber(o[8]) or reported
  local jkey = prefix .. 'job:' .. id
  local st = redis.call('HMGET', jkey, 'state', 'token', 'type', 'roc')
  if st[1] ~= 'active' or st[2] ~= token then
    out[#out + 1] = 0
  else
    local jtype = st[3]
    left[#left + 1] = id
    if kind == 'ok' then
      ev.add('complete', id, value)
      if st[4] == '1' then
        redis.call('DEL', jkey, prefix .. 'log:' .. id, prefix .. 'errs:' .. id)
      else
        -- the token is blanked rather than deleted: one command instead of two, and no lease matches it any more
        if started > 0 then
          redis.call('HSET', jkey, 'state', 'complete', 'result', value, 'finished', now, 'percent', 100,
                     'token', '', 'started', started)
        else
          redis.call('HSET', jkey, 'state', 'complete', 'result', value, 'finished', now, 'percent', 100,
                     'token', '')
        end
        completed[#completed + 1] = now
        completed[#completed + 1] = id
        local index = by_type[jtype]
        if not index then
          index = {}
          by_type[jtype] = index
        end
        index[#index + 1] = now
        index[#index + 1] = id
      end
    else
      if started > 0 then redis.call('HSET', jkey, 'started', started) end
      redis.call('HSET', jkey, 'token', '')
      if kind == 'release' then
        record_attempt(jkey, id, 'interrupted', value, trace)
        redis.call('HINCRBY', jkey, 'made', -1)
        requeue(jkey, id, jtype, 0)
      else
        local made = record_attempt(jkey, id, kind == 'fatal' and 'fatal' or 'error', value, trace)
        local fails = redis.call('HINCRBY', jkey, 'fails', 1)
        local attempts = tonumber(redis.call('HGET', jkey, 'attempts') or '1')
        redis.call('HSET', jkey, 'error', value)
        if kind == 'fail' and fails < attempts then
          requeue(jkey, id, jtype, retry_delay)
          ev.add('failed attempt', id, cjson.encode(value) .. ',' .. made)
        else
          redis.call('HSET', jkey, 'state', 'failed', 'finished', now)
          redis.call('ZADD', KEYS[3], now, id)
          redis.call('ZADD', prefix .. 'dead:' .. jtype, now, id)
          group_failure(prefix, id, jtype, value, now)
          ev.add('failed', id, cjson.encode(value))
        end
      end
    end
    out[#out + 1] = 1
  end
end
batched('ZREM', KEYS[1], left)
batched('ZADD', KEYS[2], completed)
for jtype, index in pairs(by_type) do batched('ZADD', prefix .. 'done:' .. jtype, index) end
ev.flush()
return out
