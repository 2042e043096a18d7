-- A batch of one brand's records, in input order. KEYS[1] the brand's
-- pending set (routing only). ARGV[4] calendars (load_cals), ARGV[5] a
-- msgpack array of records, each an array of strings:
--   {'i', eid, pf, pid, thread, team, prio, uday, lday, created,
--    needs_reply(0|1), due(0: none), calendar, url, text}   an inbound post
--   {'r', eid, pf, pid, parent, thread, created, uday, lday, now,
--    reconcile_window_ms}                                    a brand reply
--   {'b', pf, pid}                       a brand post that is not a reply
-- Returns one result per record, in order: the list of {'S', status},
-- {'E', ...} SLA events and {'B', ...} business-FRT requests (as the
-- record's seen marker holds them), or an error reply when that record's
-- own commands failed (the others are applied regardless).
load_cals(ARGV[4])

-- An inbound post (care.routed).
local function inbound(A)
  local key = P .. 'p:' .. A[3] .. ':' .. A[4]
  local seen = P .. 's:i:' .. A[2]
  local r = replay(seen)
  if r then return r end
  if redis.call('HGET', key, 'k') == 'i' then status('dup') return finish(seen) end
  local h = {k = 'i', eid = A[2], pf = A[3], pid = A[4], th = A[5],
    team = A[6], prio = A[7], ud = A[8], ld = A[9], ca = A[10],
    nr = A[11], due = A[12], cal = A[13], url = A[14], txt = A[15]}
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
  -- ...then, if still unanswered, the earliest thread-held one (its parent
  -- was a brand post or none) of its thread created at or after it.
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
end

-- A brand reply (is_brand post of social.posts).
local function reply(A)
  local seen = P .. 's:b:' .. A[2]
  local r = replay(seen)
  if r then return r end
  local eid, pf, pid, par, th = A[2], A[3], A[4], A[5], A[6]
  local rca = tonumber(A[7])
  local own = P .. 'p:' .. pf .. ':' .. pid
  if redis.call('HSETNX', own, 'k', 'b') == 1 then
    redis.call('EXPIRE', own, TTL)
  end
  local ph = nil
  if par ~= '' then ph = hgetall(P .. 'p:' .. pf .. ':' .. par) end
  local tkey, t = nil, nil
  local thread_rule = par == '' or (ph ~= nil and ph.k == 'b')
  if ph and ph.k == 'i' then
    tkey, t = P .. 'p:' .. pf .. ':' .. par, ph
  elseif thread_rule then
    tkey, t = thread_open(pf, th, A[7])
  end
  if t then
    status(apply_reply(tkey, t, eid, rca))
    status('matched')
  else
    -- Held: an unknown parent waits for that parent (the thread rule
    -- applies when the window ends), a brand-post parent waits for a
    -- thread post.
    local ek = P .. 'e:' .. pf .. ':' .. pid
    redis.call('HSET', ek, 'eid', eid, 'ca', A[7], 'par', par, 'th', th,
      'ud', A[8], 'ld', A[9])
    redis.call('EXPIRE', ek, TTL)
    if par ~= '' then
      redis.call('ZADD', P .. 'ep:' .. pf .. ':' .. par, A[7], pid)
      redis.call('EXPIRE', P .. 'ep:' .. pf .. ':' .. par, TTL)
    end
    if thread_rule and th ~= '' then
      redis.call('ZADD', P .. 'et:' .. pf .. ':' .. th, A[7], pid)
      redis.call('EXPIRE', P .. 'et:' .. pf .. ':' .. th, TTL)
    end
    redis.call('ZADD', P .. 'early', I(tonumber(A[10]) + tonumber(A[11])),
      pf .. ':' .. pid)
    status('early')
  end
  return finish(seen)
end

-- A brand post that is not a reply: remembered as a brand post.
local function brand_post(A)
  local key = P .. 'p:' .. A[2] .. ':' .. A[3]
  redis.call('HSETNX', key, 'k', 'b')
  redis.call('EXPIRE', key, TTL)
  return {}
end

local handlers = {i = inbound, r = reply, b = brand_post}
local res = {}
for i, A in ipairs(cmsgpack.unpack(ARGV[5])) do
  out = {}
  local ok, r = pcall(handlers[A[1]], A)
  if ok then
    res[i] = r
  else
    -- A failed command raises a table {err = ...}, a Lua error a string.
    if type(r) == 'table' then r = r.err end
    res[i] = {err = tostring(r)}
  end
end
flush()
return res
