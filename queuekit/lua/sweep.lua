-- sweep.lua: put back in line the active jobs whose lease ran out (their worker died or froze).
-- A stall is recorded in the job's attempt history; a job that stalls more than max_stalls times fails. A job an
-- add handed to an idle worker that died before taking it from its inbox never started: it goes back in line with
-- no stall counted.
-- At most one sweep runs per interval across all workers (the lock key).
--
-- KEYS[1]  active (zset: id -> lease deadline ms)
-- KEYS[2]  failed (zset)
-- KEYS[3]  sweep lock (string, expires)
-- KEYS[4]  queue key prefix               qk:{Q}:   (job hashes job:<id>, attempt histories errs:<id>, lines
--                                         and the index dead:<type> and failure group fails:<hash> (failgroups,
--                                         failinfo) a failed job joins are derived, same hash tag)
-- ARGV[1]  now, ms
-- ARGV[2]  max_stalls
-- ARGV[3]  lock time, ms (0 = sweep regardless of the lock)
-- ARGV[4]  events channel ("" = none)
-- ARGV[5]  at most this many jobs per sweep
--
-- Returns {id, outcome, ...} with outcome "requeued", "failed" or "returned" (never taken from a dead worker's
-- inbox); empty when another worker swept recently.

local now = tonumber(ARGV[1])
local max_stalls = tonumber(ARGV[2])
local channel = ARGV[4]
local prefix = KEYS[4]
if tonumber(ARGV[3]) > 0 then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then return {} end
end

local out = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  local jkey = prefix .. 'job:' .. id
  local fields = redis.call('HMGET', jkey, 'type', 'made', 'worker')
  local returned = false
  if fields[1] and fields[3] then
    returned = return_handed(prefix, take_from_inbox(prefix .. 'inbox:' .. fields[3], id)) ~= nil
  end
  if returned then
    out[#out + 1] = id
    out[#out + 1] = 'returned'
  elseif fields[1] then
    local jtype = fields[1]
    local stalls = redis.call('HINCRBY', jkey, 'stalls', 1)
    local message = 'worker ' .. (fields[3] or '?') .. ' lost the job: its lease expired (stall ' .. stalls .. ')'
    local errs = prefix .. 'errs:' .. id
    redis.call('RPUSH', errs, cjson.encode({attempt = tonumber(fields[2] or '0'), kind = 'stalled', error = message,
                                            at = now}))
    redis.call('LTRIM', errs, -50, -1)
    redis.call('HDEL', jkey, 'token')
    if stalls > max_stalls then
      local reason = 'job stalled more than max_stalls (' .. max_stalls .. ') times'
      redis.call('HSET', jkey, 'state', 'failed', 'error', reason, 'finished', now)
      redis.call('ZADD', KEYS[2], now, id)
      redis.call('ZADD', prefix .. 'dead:' .. jtype, now, id)
      group_failure(prefix, id, jtype, reason, now)
      announce(channel, 'failed', id, cjson.encode(reason))
      out[#out + 1] = id
      out[#out + 1] = 'failed'
    else
      back_in_line(prefix, jkey, id, jtype)
      announce(channel, 'stalled', id, tostring(stalls))
      out[#out + 1] = id
      out[#out + 1] = 'requeued'
    end
  end
end
return out
