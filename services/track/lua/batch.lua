-- A batch of one brand's records, in input order. KEYS[1] the brand's
-- prefix (routing only, prelude). ARGV[4] calendars (load_cals), ARGV[5] a
-- msgpack array of records, each an array of strings:
--   {'i', eid, pf, pid, thread, team, prio, uday, lday, created,
--    needs_reply(0|1), due(0: none), calendar, url, text}   an inbound post
--   {'r', eid, pf, pid, parent, thread, created, uday, lday, now,
--    reconcile_window_ms}  a brand reply (now and the window as numbers)
--   {'b', pf, pid}                       a brand post that is not a reply
-- ARGV[6] the largest created_at of the call's social.posts records (0:
-- none, advances the brand's watermark), [7] now, [8] lateness, [9] idle,
-- [10] breach grace (ms).
-- Returns one result per record, in order: one string (prelude result():
-- status codes, business-FRT requests B, SLA events E and their post P: a
-- replay returns the same E and B again), or an error reply when that
-- record's own commands failed (the others are applied regardless).
load_cals(ARGV[4])
local RECS = cmsgpack.unpack(ARGV[5])
local NOW, LATE, IDLE, GRACE = tonumber(ARGV[7]), tonumber(ARGV[8]),
  tonumber(ARGV[9]), tonumber(ARGV[10])

-- One MGET for the watermark and every post key the records name (an
-- inbound post's, its thread root's, a reply's own and its parent's). The
-- keys are built once: K1[i] the record's own key, K2[i] its parent's (a
-- reply) or its thread root's (an inbound post not the root), K3[i] a
-- reply's thread root's when its parent is another post.
local K1, K2, K3 = {}, {}, {}
do
  local keys, seen = {P .. 'wm'}, {}
  local function want(k) if not seen[k] then seen[k] = true keys[#keys + 1] = k end end
  local pp = P .. 'p:'
  for i, A in ipairs(RECS) do
    local t = A[1]
    if t == 'i' then
      local pf = pp .. A[3] .. ':'
      K1[i] = pf .. A[4]
      want(K1[i])
      if A[5] ~= '' and A[5] ~= A[4] and A[11] == '1' then
        K2[i] = pf .. A[5]
        want(K2[i])
      end
    elseif t == 'r' then
      local pf = pp .. A[3] .. ':'
      K1[i] = pf .. A[4]
      want(K1[i])
      if A[5] ~= '' then K2[i] = pf .. A[5] want(K2[i]) end
      -- A parent with no record may be a reply to the thread's root that
      -- keeps its marker in the root's record (rb): K3 the root's key.
      if A[5] ~= '' and A[6] ~= '' and A[6] ~= A[5] then
        K3[i] = pf .. A[6]
        want(K3[i])
      end
    elseif t == 'b' then
      K1[i] = pp .. A[2] .. ':' .. A[3]
      want(K1[i])
    end
  end
  prefetch(keys)
  wm_load(RAW[P .. 'wm'])
  RAW[P .. 'wm'] = nil
  wm_advance(tonumber(ARGV[6]) or 0, NOW)
  -- No social.posts record of the brand yet: its silence starts now.
  if WM_LAST == 0 then WM_LAST, WM_DIRTY = NOW, true end
end
local CLOCK = event_clock(NOW, LATE, IDLE)

-- An inbound post (care.routed): its record is its state and seen marker.
local function inbound(A, key, rootkey)
  local old = get(key)
  if old and old.k == 'i' then
    if old.eid == A[2] then return replay(old.r) end
    status('dup')
    return result()
  end
  -- The nil fields only size the table once for what it may get later.
  local h = {k = 'i', eid = A[2], pf = A[3], pid = A[4], th = A[5], team = A[6],
    ud = A[8], ld = A[9], ca = A[10], nr = A[11], st = nil, cal = nil, due = nil,
    prio = nil, url = nil, txt = nil, rca = nil, reid = nil, frt = nil, oc = nil,
    bf = nil, r = nil}
  if old then h.be, h.br, h.et = old.be, old.br, old.et end
  if h.nr == '1' then
    h.st = 'open'
    if A[13] ~= '' and A[13] ~= '24x7' then h.cal = A[13] end
    if tonumber(A[12]) > 0 then
      -- What the SLA events of this post carry.
      h.due, h.prio, h.url, h.txt = A[12], A[7], A[14], A[15]
    end
  else
    h.st = 'nn'
  end
  put(key, h)
  bump(h, 'received', 1)
  status('inbound')
  if h.nr == '1' then
    bump(h, 'needs_reply', 1)
    if h.due then
      bump(h, 'with_due', 1)
      bump(h, 'pending', 1)
      zset(P .. 'pending', h.pf .. ':' .. h.pid, h.due)
    end
    if h.th ~= '' and h.th ~= h.pid then
      local tk = P .. 't:' .. h.pf .. ':' .. h.th
      redis.call('ZADD', tk, h.ca, h.pid)
      redis.call('EXPIRE', tk, TTL)
    end
  end
  -- Early replies: those naming this post as their parent...
  if old and old.w then
    for _, rid in ipairs(old.w) do
      local e = take_early(h.pf, rid)
      if e then
        status(apply_reply(key, h, e.eid, tonumber(e.ca), CLOCK, GRACE, e.ca))
        status('reconciled')
      end
    end
  end
  -- ...then, if still unanswered, the earliest thread-held one (its parent
  -- was a brand post or none) of its thread created at or after it. The
  -- thread root's record says (et) whether the thread ever had such a reply
  -- held: most threads never do, and need no look at et:.
  local root = h
  if rootkey then root = get(rootkey) end
  if h.nr == '1' and not h.rca and h.th ~= '' and root and root.et then
    local tk = P .. 'et:' .. h.pf .. ':' .. h.th
    local c = redis.call('ZRANGEBYSCORE', tk, h.ca, '+inf', 'LIMIT', 0, 1)
    if c[1] then
      local e = take_early(h.pf, c[1])
      redis.call('ZREM', tk, c[1])
      if e then
        status(apply_reply(key, h, e.eid, tonumber(e.ca), CLOCK, GRACE, e.ca))
        status('reconciled')
      end
    end
  end
  h.r = kept(key)
  return result()
end

-- Replies that answered an inbound post by parent, that post being their
-- thread's root, and had no record of their own, are kept in the root's
-- record: rb = {reply id, event id, SLA event kinds it returned ('' none),
-- '1' when it asked for business FRT else ''} per reply. That is their seen
-- marker and what tells a reply to them that its parent is a brand post:
-- no record (no SET ... EX of a new key) per such reply.
local RB_MAX = 16
local function rb_find(h, pid)
  local rb = h and h.rb
  if not rb then return nil end
  for j = 1, #rb, 4 do
    if rb[j] == pid then return j end
  end
  return nil
end
local function rb_put(h, pid, eid, r)
  local rb = h.rb
  if not rb then rb = {} h.rb = rb end
  local j = rb_find(h, pid) or #rb + 1
  rb[j], rb[j + 1] = pid, eid
  rb[j + 2], rb[j + 3] = r and r[2] or '', r and r[3] or ''
end

-- A brand reply (is_brand post of social.posts): its seen marker and, while
-- it waits, its hold is its own record (kind b: be its event id, br what it
-- returned), or for a reply to its thread's root that had no record, an
-- entry of the root's rb.
local function reply(A, ok, pk, rk)
  local eid, pf, pid, par, th = A[2], A[3], A[4], A[5], A[6]
  local rca = tonumber(A[7])
  local own = get(ok)
  if own and own.be == eid then return replay(own.br) end
  local ph = nil
  if par ~= '' then ph = get(pk) end
  local inroot = ph ~= nil and ph.k == 'i' and par == th
  if inroot then
    -- Its marker may be in the root's rb even when its own key has a record
    -- now: the placeholder (w) of a reply to it that waits for it.
    local j = rb_find(ph, pid)
    if j and ph.rb[j + 1] == eid then
      local b = ph.rb[j + 3]
      return replay({pk, ph.rb[j + 2], b ~= '' and b or nil})
    end
    -- At most RB_MAX replies per root there (each SET rewrites the whole
    -- record, every lookup scans it): the others get records of their own.
    inroot = not own and (j ~= nil or not ph.rb or #ph.rb < RB_MAX * 4)
  end
  if not inroot then
    if not own then own = {k = 'b'} elseif own.k == 'w' then own.k = 'b' end
    own.be, own.br = eid, nil
    put(ok, own)
  end
  local tkey, t = nil, nil
  -- A parent with no record of its own that its thread's root lists (rb)
  -- is a brand post as well.
  local thread_rule = par == '' or (ph ~= nil and ph.k == 'b') or
    (ph == nil and rk ~= nil and rb_find(get(rk), par) ~= nil)
  if ph and ph.k == 'i' then
    tkey, t = pk, ph
  elseif thread_rule then
    tkey, t = thread_open(pf, th, A[7])
  end
  local tk = nil
  if t then
    tk = tkey
    status(apply_reply(tkey, t, eid, rca, CLOCK, GRACE, A[7]))
    status('matched')
  else
    -- Held: an unknown parent waits for that parent (its key holds the
    -- reply's id in w, the thread rule applies when the window ends), a
    -- brand-post parent waits for a thread post.
    own.h = {ca = A[7], par = par, th = th, ud = A[8], ld = A[9],
      tr = thread_rule and '1' or '0'}
    if par ~= '' and not thread_rule then
      if not ph then ph = {k = 'w'} end
      ph.w = ph.w or {}
      ph.w[#ph.w + 1] = pid
      put(pk, ph)
    end
    if thread_rule and th ~= '' then
      redis.call('ZADD', P .. 'et:' .. pf .. ':' .. th, A[7], pid)
      redis.call('EXPIRE', P .. 'et:' .. pf .. ':' .. th, TTL)
      mark_thread(P .. 'p:' .. pf .. ':' .. th)
    end
    zset(P .. 'early', pf .. ':' .. pid, I(A[10] + A[11]))
    status('early')
  end
  if inroot then
    -- The root's record now outlives the reply by state_ttl, as the
    -- reply's own record did.
    rb_put(ph, pid, eid, kept(tk))
    RENEW[pk] = true
    put(pk, ph)
  else
    own.br = kept(tk)
  end
  return result()
end

-- A brand post that is not a reply: remembered as a brand post.
local function brand_post(A, key)
  local r = get(key)
  if not r then put(key, {k = 'b'})
  elseif r.k == 'w' then r.k = 'b' put(key, r) end
  return ''
end

local handlers = {i = inbound, r = reply, b = brand_post}
local res = {}
for i, A in ipairs(RECS) do
  out_reset()
  local ok, r = pcall(handlers[A[1]], A, K1[i], K2[i], K3[i])
  if ok then
    res[i] = r
  else
    -- A failed command raises a table {err = ...}, a Lua error a string.
    if type(r) == 'table' then r = r.err end
    res[i] = {err = tostring(r)}
  end
end
flush()
wm_store()
return res
