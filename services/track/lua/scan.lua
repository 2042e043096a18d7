-- The timer. KEYS[1] pending set. ARGV[4..] now grace_ms limit calendars
-- (load_cals).
-- Breaches what is due (into the outbox), ends the wait of early replies
-- whose window passed: the thread rule, else an orphan. SLA events of those
-- late matches go to the outbox too (the timer has no input to store).
-- Returns {breached, orphaned, matched, {'B' requests...}}.
local now, grace, lim = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local nb, no, nm = 0, 0, 0
load_cals(ARGV[7])
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. I(now - grace),
    'LIMIT', 0, lim)) do
  local pk = P .. 'p:' .. m
  local h = hgetall(pk)
  redis.call('ZREM', KEYS[1], m)
  if h and h.st == 'open' then
    redis.call('HSET', pk, 'st', 'missed')
    bump(h, 'sla_missed', 1)
    bump(h, 'pending', -1)
    redis.call('ZADD', P .. 'outbox', h.due, 'breach|' .. m)
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
      apply_reply(tkey, t, e.eid, tonumber(e.ca))
      nm = nm + 1
    else
      bump_day(e.ud, e.ld, pf, '-', 'orphan_replies', 1)
      no = no + 1
    end
  end
end
local bf = {}
for _, o in ipairs(out) do
  if o[1] == 'E' then
    redis.call('ZADD', P .. 'outbox', o[9], o[2] .. '|' .. o[4] .. ':' .. o[5])
  elseif o[1] == 'B' then
    bf[#bf + 1] = o
  end
end
flush()
return {nb, no, nm, bf}
