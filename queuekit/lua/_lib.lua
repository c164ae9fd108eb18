-- _lib.lua: helpers shared by every script. scripts.py puts this file in front of each script when it loads them
-- (it is not a script of its own: a name starting with "_" is never registered). Each helper only touches the
-- keys its caller names or derives from the queue's prefix, so the hash tag keeps them in the queue's slot.

-- The score of a waiting job: its priority band in the high bits, its arrival order in the low 32 bits, so a
-- lower score runs first and jobs of one priority run first in, first out.
local function wait_score(priority, seq)
  return (priority + 1000) * 4294967296 + (seq % 4294967296)
end

-- Wake one blocked worker of a type: one token is enough, the worker re-arms the marker while jobs remain.
local function wake(mark_key)
  if redis.call('LLEN', mark_key) == 0 then redis.call('RPUSH', mark_key, '1') end
end

-- Announce a job event: {"e": event, "id": id, "a": [args]} with args already encoded as JSON values.
local function announce(channel, event, id, args_json)
  if channel ~= '' then
    redis.call('PUBLISH', channel, '{"e":' .. cjson.encode(event) .. ',"id":' .. cjson.encode(id) ..
                                   ',"a":[' .. (args_json or '') .. ']}')
  end
end

-- Put a job back at the end of its priority band in line (prefix = "qk:{Q}:"), and wake a worker.
local function back_in_line(prefix, jkey, id, jtype)
  local seq = redis.call('INCR', prefix .. 'seq')
  local priority = tonumber(redis.call('HGET', jkey, 'priority') or '0')
  redis.call('HSET', jkey, 'state', 'inactive', 'seq', seq)
  redis.call('ZADD', prefix .. 'wait:' .. jtype, wait_score(priority, seq), id)
  wake(prefix .. 'mark:' .. jtype)
end

