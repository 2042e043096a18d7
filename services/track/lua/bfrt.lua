-- Business FRT of a post's current first reply, once. KEYS[1] post hash.
-- ARGV[4..] reply_created business_frt_ms.
local h = hgetall(KEYS[1])
if not h or h.rca ~= ARGV[4] or h.bf then return 0 end
local bf = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'bf', ARGV[5])
bump(h, 'bfrt_sum_ms', bf)
bump(h, 'bfrt_n', 1)
zput(h, 'bf', bf)
expire_touched()
return 1
