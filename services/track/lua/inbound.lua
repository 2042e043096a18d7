-- An inbound post (care.routed). KEYS[1] post hash. ARGV[4..] eid pf pid
-- thread team prio uday lday created needs_reply(0|1) due(0: none) calendar
-- url text.
local key = KEYS[1]
local seen = P .. 's:i:' .. ARGV[4]
local r = replay(seen)
if r then return r end
local old = hgetall(key)
if old and old.k == 'i' then status('dup') return finish(seen) end
local h = {k = 'i', eid = ARGV[4], pf = ARGV[5], pid = ARGV[6], th = ARGV[7],
  team = ARGV[8], prio = ARGV[9], ud = ARGV[10], ld = ARGV[11], ca = ARGV[12],
  nr = ARGV[13], due = ARGV[14], cal = ARGV[15], url = ARGV[16], txt = ARGV[17]}
h.st = (h.nr == '1') and 'open' or 'nn'
redis.call('HSET', key, 'k', 'i', 'eid', h.eid, 'pf', h.pf, 'pid', h.pid, 'th', h.th,
  'team', h.team, 'prio', h.prio, 'ud', h.ud, 'ld', h.ld, 'ca', h.ca, 'nr', h.nr,
  'due', h.due, 'cal', h.cal, 'url', h.url, 'txt', h.txt, 'st', h.st)
redis.call('EXPIRE', key, TTL)
bump(h, 'received', 1)
status('inbound')
if h.nr == '1' then
  bump(h, 'needs_reply', 1)
  if tonumber(h.due) > 0 then
    bump(h, 'with_due', 1)
    bump(h, 'pending', 1)
    redis.call('ZADD', P .. 'pending', h.due, h.pf .. ':' .. h.pid)
  end
  if h.th ~= '' then
    local tk = P .. 't:' .. h.pf .. ':' .. h.th
    redis.call('ZADD', tk, h.ca, h.pid)
    redis.call('EXPIRE', tk, TTL)
  end
end
-- Early replies: those naming this post as their parent...
local ek = P .. 'ep:' .. h.pf .. ':' .. h.pid
for _, rpid in ipairs(redis.call('ZRANGE', ek, 0, -1)) do
  local e = take_early(h.pf, rpid)
  redis.call('ZREM', ek, rpid)
  if e then
    status(apply_reply(key, h, e.eid, tonumber(e.ca)))
    status('reconciled')
  end
end
-- ...then, if still unanswered, the earliest thread-held one (its parent was
-- a brand post or none) of its thread created at or after it.
if h.nr == '1' and not h.rca and h.th ~= '' then
  local tk = P .. 'et:' .. h.pf .. ':' .. h.th
  local c = redis.call('ZRANGEBYSCORE', tk, h.ca, '+inf', 'LIMIT', 0, 1)
  if c[1] then
    local e = take_early(h.pf, c[1])
    redis.call('ZREM', tk, c[1])
    if e then
      status(apply_reply(key, h, e.eid, tonumber(e.ca)))
      status('reconciled')
    end
  end
end
return finish(seen)
