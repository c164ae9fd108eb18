-- retry.lua: give failed jobs a fresh set of attempts and put them back in line.
--
-- KEYS[1]  failed (zset)
-- KEYS[2]  queue key prefix               qk:{Q}:   (job hashes and lines derived, same hash tag)
-- ARGV[1]  events channel ("" = none)
-- ARGV[2..] job ids ("*" alone = every failed job, at most 10,000 per call)
--
-- Returns the ids put back in line (jobs that were not failed are skipped).

local prefix = KEYS[2]
local ids = {}
if ARGV[2] == '*' then
  ids = redis.call('ZRANGE', KEYS[1], 0, 9999)
else
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local out = {}
for _, id in ipairs(ids) do
  local jkey = prefix .. 'job:' .. id
  if redis.call('ZREM', KEYS[1], id) == 1 and redis.call('HGET', jkey, 'state') == 'failed' then
    local jtype = redis.call('HGET', jkey, 'type')
    local seq = redis.call('INCR', prefix .. 'seq')
    local priority = tonumber(redis.call('HGET', jkey, 'priority') or '0')
    redis.call('HSET', jkey, 'state', 'inactive', 'seq', seq, 'fails', 0, 'stalls', 0)
    redis.call('HDEL', jkey, 'error', 'finished')
    redis.call('ZADD', prefix .. 'wait:' .. jtype, (priority + 1000) * 4294967296 + (seq % 4294967296), id)
    local mark = prefix .. 'mark:' .. jtype
    if redis.call('LLEN', mark) == 0 then redis.call('RPUSH', mark, '1') end
    if ARGV[1] ~= '' then
      redis.call('PUBLISH', ARGV[1], '{"e":"enqueue","id":' .. cjson.encode(id) .. ',"a":[' .. cjson.encode(jtype) .. ']}')
    end
    out[#out + 1] = id
  end
end
return out
