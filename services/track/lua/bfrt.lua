-- Business FRT of first replies, once each. KEYS[1] the brand's prefix
-- (routing only, prelude). ARGV[4] msgpack array of {post key, reply_created,
-- business_frt_ms}. Returns how many were set.
local n = 0
local B = cmsgpack.unpack(ARGV[4])
local keys = {}
for _, b in ipairs(B) do keys[#keys + 1] = b[1] end
prefetch(keys)
for _, b in ipairs(B) do
  local h = get(b[1])
  if h and h.k == 'i' and h.rca == b[2] and not h.bf then
    local bf = tonumber(b[3])
    h.bf = b[3]
    put(b[1], h)
    bump(h, 'bfrt_sum_ms', bf)
    bump(h, 'bfrt_n', 1)
    if b[3] ~= h.frt then zput(h, 'bf', bf) end
    n = n + 1
  end
end
flush()
return n
