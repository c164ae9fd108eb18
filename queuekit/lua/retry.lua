-- retry.lua: give failed jobs a fresh set of attempts and put them back in line.
--
-- KEYS[1]  failed (zset)
-- KEYS[2]  queue key prefix               qk:{Q}:   (job hashes, lines, and the index dead:<type> and the
--                                         failure group fails:<hash> (with failgroups, failinfo) a retried job
--                                         leaves are derived, same hash tag)
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
  local st = redis.call('HMGET', jkey, 'state', 'type', 'error')
  local jtype = st[2]
  local listed = redis.call('ZREM', KEYS[1], id) == 1
  if listed and jtype then redis.call('ZREM', prefix .. 'dead:' .. jtype, id) end
  if listed then ungroup_failure(prefix, id, st[3]) end
  if listed and st[1] == 'failed' then
    redis.call('HSET', jkey, 'fails', 0, 'stalls', 0)
    redis.call('HDEL', jkey, 'error', 'finished')
    back_in_line(prefix, jkey, id, jtype)
    announce(ARGV[1], 'enqueue', id, cjson.encode(jtype))
    out[#out + 1] = id
  end
end
return out
