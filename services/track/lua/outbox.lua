-- KEYS[1] the brand's prefix (routing only, prelude). ARGV[4] limit. The
-- SLA events still to be produced by the timer: {member, kind, eid, pf, pid,
-- team, prio, created, due, replied_at, frt_ms, url, text} each (member =
-- kind|platform:post_id).
local OB = P .. 'outbox'
local res = {}
for _, m in ipairs(redis.call('ZRANGE', OB, 0, tonumber(ARGV[4]) - 1)) do
  local i = string.find(m, '|', 1, true)
  local kind, ref = 'breach', m
  if i then kind, ref = string.sub(m, 1, i - 1), string.sub(m, i + 1) end
  local h = get(P .. 'p:' .. ref)
  if h and h.k == 'i' then
    local rca, frt = h.rca or '', h.frt or ''
    if kind == 'breach' then rca, frt = '', '' end
    res[#res + 1] = {m, kind, h.eid, h.pf, h.pid, h.team, h.prio or '', h.ca,
      h.due or '0', rca, frt, h.url or '', h.txt or ''}
  else
    redis.call('ZREM', OB, m)
  end
end
return res
