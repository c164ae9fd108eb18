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

-- Run a variadic command over a long list of arguments, 1,000 at a time: Lua's unpack() refuses a few thousand
-- values, and one command per job costs far more than one per thousand. `per` (default 1000) must keep pairs
-- together for ZADD (an even number).
local function batched(command, key, items, per)
  per = per or 1000
  local n = #items
  for first = 1, n, per do
    local last = math.min(first + per - 1, n)
    if key then
      redis.call(command, key, unpack(items, first, last))
    else
      redis.call(command, unpack(items, first, last))
    end
  end
end

-- Job events. One PUBLISH carries a JSON array of events, each [event, id, [args]] (args already encoded as JSON
-- values), so a script that touches many jobs publishes once per few hundred events instead of once per job.
-- events.py reads this format. Usage: local ev = events(channel); ev.add('start', id, args_json); ...; ev.flush()
local function events(channel)
  local buf, n, size = {}, 0, 0
  local self = {}
  function self.flush()
    if n > 0 then
      redis.call('PUBLISH', channel, '[' .. table.concat(buf, ',', 1, n) .. ']')
      buf, n, size = {}, 0, 0
    end
  end
  function self.add(event, id, args_json)
    if channel == '' then return end
    local item = '["' .. event .. '",' .. cjson.encode(id) .. ',[' .. (args_json or '') .. ']]'
    n = n + 1
    buf[n] = item
    size = size + #item
    -- keep each message small enough for a subscriber's output buffer, however large the batch or its results
    if n >= 500 or size >= 262144 then self.flush() end
  end
  return self
end

-- Announce a single event at once.
local function announce(channel, event, id, args_json)
  if channel ~= '' then
    redis.call('PUBLISH', channel, '[["' .. event .. '",' .. cjson.encode(id) .. ',[' .. (args_json or '') .. ']]]')
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


-- A job an add handed to an idle worker (add.lua) waits in that worker's inbox until the worker's blocking pop
-- takes it, as an entry JSON [id, fields]. The decoded entry, or nil for one that is not JSON of that shape (never
-- written by queuekit; a sweep or a claim must not stop on it).
local function handed(item)
  local ok, entry = pcall(cjson.decode, item)
  if ok and type(entry) == 'table' and type(entry[1]) == 'string' and type(entry[2]) == 'table' then
    return entry
  end
  return nil
end

-- Take the entry of job `id` out of a worker's inbox; returns it decoded, or nil when it is not there.
local function take_from_inbox(inbox, id)
  for _, item in ipairs(redis.call('LRANGE', inbox, 0, -1)) do
    local entry = handed(item)
    if entry and entry[1] == id then
      redis.call('LREM', inbox, 1, item)
      return entry
    end
  end
  return nil
end

-- Put back in line a job from a decoded inbox entry its worker never took (it died or stopped first). The job never
-- started, so it goes back as if just added: no attempt, no stall. Returns the job's id, or nil when there is no
-- entry, or the job was removed or is no longer held under that hand-off.
local function return_handed(prefix, entry)
  if not entry then return nil end
  local id = entry[1]
  local jkey = prefix .. 'job:' .. id
  local st = redis.call('HMGET', jkey, 'state', 'token', 'type')
  if st[1] ~= 'active' or st[2] ~= entry[2]['token'] then return nil end
  redis.call('ZREM', prefix .. 'active', id)
  redis.call('HDEL', jkey, 'token', 'worker', 'started', 'made')
  back_in_line(prefix, jkey, id, st[3])
  return id
end

-- The failure group of an error message: a hash of its first line (its first 1,000 bytes), as 16 hex digits, and
-- that line. The hash, not the text, names the group's key fails:<hash>, so no error a handler raises can name
-- another key. Two polynomial hashes modulo primes below 2^32, in plain arithmetic (exact in a Lua number): the same
-- on every server, where redis.sha1hex is missing from some (the embedded one), and only run when a job fails.
local function failure_group(message)
  local first = string.sub(string.match(message or '', '^[^\r\n]*'), 1, 1000)
  local a, b = 0, 0
  for i = 1, #first do
    local c = string.byte(first, i)
    a = (a * 257 + c) % 4294967291
    b = (b * 263 + c) % 4294967279
  end
  return string.format('%08x%08x', a, b), first
end

-- Count job `id`, failed for good at `now` with `message`, in its failure group (prefix = "qk:{Q}:"): fails:<hash>
-- holds the group's ids by time, failgroups the size of each group, failinfo each group's JSON {error, first_seen,
-- last_seen, types} (types: the job types the group hit).
local function group_failure(prefix, id, jtype, message, now)
  local group, first = failure_group(message)
  local line = prefix .. 'fails:' .. group
  redis.call('ZADD', line, now, id)
  local raw = redis.call('HGET', prefix .. 'failinfo', group)
  local info
  if raw then
    info = cjson.decode(raw)
    if now < info.first_seen then info.first_seen = now end
    if now > info.last_seen then info.last_seen = now end
  else
    info = {error = first, first_seen = now, last_seen = now, types = {}}
  end
  local known = false
  for _, t in ipairs(info.types) do known = known or t == jtype end
  if not known and jtype then info.types[#info.types + 1] = jtype end
  redis.call('HSET', prefix .. 'failinfo', group, cjson.encode(info))
  redis.call('ZADD', prefix .. 'failgroups', redis.call('ZCARD', line), group)
end

-- Take job `id`, whose error was `message`, out of its failure group (it left the failed line); a group left empty
-- is forgotten. A job failed before the groups existed is in none: nothing changes.
local function ungroup_failure(prefix, id, message)
  local group = failure_group(message)
  local line = prefix .. 'fails:' .. group
  if redis.call('ZREM', line, id) == 0 then return end
  local n = redis.call('ZCARD', line)
  if n == 0 then
    redis.call('ZREM', prefix .. 'failgroups', group)
    redis.call('HDEL', prefix .. 'failinfo', group)
  else
    redis.call('ZADD', prefix .. 'failgroups', n, group)
  end
end
