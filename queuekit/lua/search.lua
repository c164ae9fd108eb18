-- search.lua: find jobs by id, type, data or error text, walking one or more lines in order, a bounded number of
-- jobs per call (the caller calls again from where the last call stopped). Reads only; writes nothing.
--
-- A job matches when the query is its id, or when the query is a substring of its type, its data (as the JSON
-- text stored) or its error, ignoring the case of ASCII letters.
--
-- KEYS[1]  queue key prefix               qk:{Q}:   (each job's hash job:<id> is derived, same hash tag)
-- KEYS[2..] the lines to walk, in this order (zsets of job ids: wait:<type>, delayed:<type>, active, complete,
--          failed, or an index done:<type> / dead:<type>)
-- ARGV[1]  the query
-- ARGV[2]  only jobs of this type ("" = any type)
-- ARGV[3]  start in this line (0 = KEYS[2])
-- ARGV[4]  start at this position in it (0 = its first job)
-- ARGV[5]  examine at most this many jobs
-- ARGV[6]  return at most this many matches
--
-- Returns {line, position, id, id, ...}: where the next call starts (line = the number of lines when every line
-- was walked to its end), then the ids that matched, in line order.

local prefix = KEYS[1]
local query, needle, only = ARGV[1], string.lower(ARGV[1]), ARGV[2]
local line, offset = tonumber(ARGV[3]) + 2, tonumber(ARGV[4])
local budget, want = tonumber(ARGV[5]), tonumber(ARGV[6])
local found = {}

local function matches(id)
  local f = redis.call('HMGET', prefix .. 'job:' .. id, 'type', 'data', 'error')
  if not f[1] or (only ~= '' and f[1] ~= only) then return false end
  if id == query then return true end
  for k = 1, 3 do
    if f[k] and string.find(string.lower(f[k]), needle, 1, true) then return true end
  end
  return false
end

while line <= #KEYS and budget > 0 and #found < want do
  local chunk = math.min(budget, 500)
  local ids = redis.call('ZRANGE', KEYS[line], offset, offset + chunk - 1)
  local seen = 0
  for _, id in ipairs(ids) do
    seen = seen + 1
    if matches(id) then
      found[#found + 1] = id
      if #found >= want then break end
    end
  end
  offset = offset + seen
  budget = budget - seen
  if seen == #ids and #ids < chunk then
    line, offset = line + 1, 0
  end
end
return {line - 2, offset, unpack(found)}
