-- Business FRT of first replies, once each. KEYS[1] the brand's pending set
-- (routing only). ARGV[4] msgpack array of {post key, reply_created,
-- business_frt_ms}. Returns how many were set.
local n = 0
for _, b in ipairs(cmsgpack.unpack(ARGV[4])) do
  local v = redis.call('HMGET', b[1], 'rca', 'bf', 'ud', 'ld', 'pf', 'team', 'eid')
  if v[1] == b[2] and not v[2] and v[3] then
    local h = {ud = v[3], ld = v[4], pf = v[5], team = v[6], eid = v[7]}
    local bf = tonumber(b[3])
    redis.call('HSET', b[1], 'bf', b[3])
    bump(h, 'bfrt_sum_ms', bf)
    bump(h, 'bfrt_n', 1)
    zput(h, 'bf', bf)
    n = n + 1
  end
end
flush()
return n
