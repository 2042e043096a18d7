-- The timer. KEYS[1] the brand's prefix (routing only, prelude). ARGV[4..]
-- now grace_ms limit calendars (load_cals) lateness_ms idle_ms.
-- Breaches what is due by event time (into the outbox): pending posts, and
-- late-answered ones whose breach waited for event time (lb), ends the wait
-- of early replies whose window passed (processing time): the thread rule,
-- else an orphan. SLA events of those late matches go to the outbox too
-- (the timer has no input to store).
-- Returns {breached, orphaned, matched, {'B' requests...}}.
local now, grace, lim = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local nb, no, nm = 0, 0, 0
local PK = P .. 'pending'
load_cals(ARGV[7])
wm_load(redis.call('GET', P .. 'wm'))
local clock = event_clock(now, tonumber(ARGV[8]) or 0, tonumber(ARGV[9]) or 0)
local upto = '(' .. I(clock - grace)
for _, m in ipairs(redis.call('ZRANGEBYSCORE', PK, '-inf', upto, 'LIMIT', 0, lim)) do
  local pk = P .. 'p:' .. m
  local h = get(pk)
  zset(PK, m, false)
  if h and h.st == 'open' then
    h.st, h.bx = 'missed', '1'
    put(pk, h)
    bump(h, 'sla_missed', 1)
    bump(h, 'pending', -1)
    zset(P .. 'outbox', 'breach|' .. m, h.due)
    nb = nb + 1
  end
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'lb', '-inf', upto, 'LIMIT', 0, lim)) do
  local pk = P .. 'p:' .. m
  local h = get(pk)
  zset(P .. 'lb', m, false)
  if h and h.st == 'lb' then
    h.st, h.bx = 'done', '1'
    put(pk, h)
    zset(P .. 'outbox', 'breach|' .. m, h.due)
    zset(P .. 'outbox', 'late|' .. m, h.due)
    nb = nb + 1
  end
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'early', '-inf', I(now),
    'LIMIT', 0, lim)) do
  local i = string.find(m, ':', 1, true)
  local pf, rpid = string.sub(m, 1, i - 1), string.sub(m, i + 1)
  local e = take_early(pf, rpid)
  if e then
    local tkey, t = thread_open(pf, e.th, e.ca)
    if t then
      apply_reply(tkey, t, e.eid, tonumber(e.ca), clock, grace)
      nm = nm + 1
    else
      bump_day(e.ud, e.ld, pf, '-', 'orphan_replies', 1)
      no = no + 1
    end
  end
end
local bf = {}
for i = 1, NEV do
  local h = EVP[i]
  zset(P .. 'outbox', EVK[i] .. '|' .. h.pf .. ':' .. h.pid, h.due or '0')
end
for i = 1, NB do bf[#bf + 1] = {'B', BK[i], BCA[i], BRC[i], BCAL[i]} end
flush()
return {nb, no, nm, bf}
