-- The writes of one brand's records applied by the tracker's C logic
-- (sc_track_engine.c): on a cluster all of them, on one node only the
-- counters and FRT hashes, queued inside the engine's MULTI (the rest are
-- plain commands there). All or none: only when the brand's version key still
-- holds ARGV[4], the value the engine read before it applied them (every
-- script that changes what the logic reads increments it, flush()), else
-- nothing is written and 0 returned: the engine reads and applies again.
-- ARGV[5..]: operations, each a code then its arguments:
--   S key value    the record, its TTL kept (a new TTL when it expired since)
--   X key value    the record with a new state_ttl
--   D key          the record deleted
--   C key n (field delta)*n   counter deltas of a day hash
--   Z key n (score member)*n  ZADD      R key n member*n   ZREM
--   H key n (field value)*n   HSET of an FRT hash   h key n field*n   HDEL
--   E key          EXPIRE retention      T key   EXPIRE state_ttl
--   W value        the brand's watermark
-- Returns 1 when applied.
local MEMBERS = {Z = {cmd = 'ZADD', width = 2}, R = {cmd = 'ZREM', width = 1},
  H = {cmd = 'HSET', width = 2, hash = true}, h = {cmd = 'HDEL', width = 1, hash = true}}
local VK = P .. 'v'
if (redis.call('GET', VK) or '') ~= ARGV[4] then return 0 end
local i, n = 5, #ARGV
while i <= n do
  local op, k = ARGV[i], ARGV[i + 1]
  if op == 'S' then
    if not redis.call('SET', k, ARGV[i + 2], 'XX', 'KEEPTTL') then
      redis.call('SET', k, ARGV[i + 2], 'EX', TTL)
    end
    i = i + 3
  elseif op == 'X' then
    redis.call('SET', k, ARGV[i + 2], 'EX', TTL)
    i = i + 3
  elseif op == 'D' then
    redis.call('DEL', k)
    i = i + 2
  elseif op == 'E' then
    redis.call('EXPIRE', k, RET)
    i = i + 2
  elseif op == 'T' then
    redis.call('EXPIRE', k, TTL)
    i = i + 2
  elseif op == 'W' then
    redis.call('SET', P .. 'wm', k)
    i = i + 2
  else
    local c = tonumber(ARGV[i + 2])
    local a = i + 3
    if op == 'C' then
      for s = 0, c - 1, 500 do
        local m = math.min(500, c - s)
        local fs = {}
        for j = 1, m do fs[j] = ARGV[a + 2 * (s + j - 1)] end
        local cur = redis.call('HMGET', k, unpack(fs))
        local set = {}
        for j = 1, m do
          set[#set + 1] = fs[j]
          set[#set + 1] = I((tonumber(cur[j]) or 0) + tonumber(ARGV[a + 2 * (s + j - 1) + 1]))
        end
        redis.call('HSET', k, unpack(set))
      end
      i = a + 2 * c
    elseif MEMBERS[op] then
      -- in chunks of 500 members (pairs for ZADD and HSET)
      local m = MEMBERS[op]
      local w = m.hash and hwrite or zwrite
      for s = 0, c - 1, 500 do
        local n = math.min(500, c - s)
        w(m.cmd, k, ARGV, a + m.width * s, a + m.width * (s + n) - 1)
      end
      i = a + m.width * c
    else
      return redis.error_reply('track commit: unknown operation ' .. tostring(op))
    end
  end
end
redis.call('INCR', VK)
return 1
