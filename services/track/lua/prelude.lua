-- Shared by every tracker script (prepended to each). Every key a script
-- touches starts with the prefix ARGV[1] = "sc:{<brand>}:" (one hash slot).
-- KEYS[1] is that bare prefix, a key that never exists: it routes the call
-- to the brand's slot, and while that slot migrates the old master answers
-- ASK (the importing one TRYAGAIN) instead of running the script with part
-- of the brand's keys already moved: the client holds such a batch until
-- the slot has moved (sc_redis.h).
-- Common ARGV (kept as text: they only go back to Redis): [1] prefix, [2]
-- retention of day keys (s), [3] TTL of post
-- records and indexes (s).
local P = ARGV[1]
local RET = ARGV[2]
local TTL = ARGV[3]
-- Calendars whose business time is not the wall clock (set by load_cals):
-- business FRT of a post on one of those is computed by the worker ('B'),
-- on any other (24x7, null or unknown: the worker uses 24x7) it is the FRT.
local NEEDCAL = {}
local function load_cals(s)
  for id in string.gmatch(s or '', '[^\n]+') do NEEDCAL[id] = true end
end
local function I(n) return string.format('%d', n) end

-- Records: one msgpack map per post key `p:<platform>:<post_id>`, read once
-- per call (prefetch: one MGET for every key the call's records name), kept
-- in C while the call runs and written once at its end (one SET per changed
-- record). Kinds: 'i' an inbound post (its state, and its seen marker),
-- 'b' a brand post (a reply's own record is its seen marker and, while the
-- reply waits, its hold), 'w' a post not seen yet that held replies name as
-- their parent (w: their ids).
local RAW, C, KIND0, dirty, dorder = {}, {}, {}, {}, {}
local function prefetch(keys)
  if #keys == 0 then return end
  local v = redis.call('MGET', unpack(keys))
  for i, k in ipairs(keys) do
    if C[k] == nil and RAW[k] == nil then RAW[k] = v[i] or false end
  end
end
local function get(key)
  local r = C[key]
  if r ~= nil then return r or nil end
  local v = RAW[key]
  if v == nil then v = redis.call('GET', key) or false end
  RAW[key] = nil
  if not v then C[key] = false KIND0[key] = false return nil end
  local ok, rec = pcall(cmsgpack.unpack, v)
  if not ok or type(rec) ~= 'table' or type(rec.k) ~= 'string' then
    RAW[key] = v
    error('key ' .. key .. ' does not hold a track record')
  end
  C[key] = rec
  KIND0[key] = rec.k
  return rec
end
local function put(key, rec)
  C[key] = rec
  if not dirty[key] then dirty[key] = true dorder[#dorder + 1] = key end
end
local function del(key) put(key, false) end
-- Records whose TTL starts again when written (mark_thread).
local RENEW = {}
-- The thread whose root post has key rk now has a thread-held reply (et:):
-- its root's record says so (et), a placeholder when the root is not known
-- yet. That record lives at least as long as the et: set (both get a new
-- state_ttl now), so an inbound post of the thread finds the flag.
local function mark_thread(rk)
  local r = get(rk)
  if not r then r = {k = 'w'} end
  r.et = '1'
  RENEW[rk] = true
  put(rk, r)
end
local function put_records()
  for _, k in ipairs(dorder) do
    local r = C[k]
    if r then
      -- A record keeps its TTL while it changes, a new one (or one that
      -- changed kind: a placeholder became the post) starts a new TTL.
      if KIND0[k] and KIND0[k] == r.k and not RENEW[k] then
        redis.call('SET', k, cmsgpack.pack(r), 'KEEPTTL')
      else
        redis.call('SET', k, cmsgpack.pack(r), 'EX', TTL)
      end
    elseif KIND0[k] then
      redis.call('DEL', k)
    end
    KIND0[k] = r and r.k or false
  end
  dirty, dorder, RENEW = {}, {}, {}
end

-- Day counters and FRT sets are only ever written by the scripts, never
-- read: their updates are summed here and written once per call by flush()
-- (per day hash one HMGET and one HSET of every touched field, per sorted
-- set one ZADD / ZREM, one EXPIRE per key). A counter update is one table
-- increment in its group (UTC day, local day, platform, team: looked up once
-- per record): field names and keys are built once per call.
local zk, zagg = {}, {}
local GRP, GORD, GC = {}, {}, {}
local function group(ud, ld, pf, team)
  local gk = ud .. '|' .. ld .. '|' .. pf .. '|' .. team
  local g = GRP[gk]
  if not g then
    g = {ud = ud, ld = ld, fp = pf .. '|' .. team .. '|', v = {}}
    GRP[gk] = g
    GORD[#GORD + 1] = g
  end
  return g
end
-- s: the score (string), or false to remove m. The last write wins. The
-- keys of FH are hashes (field m, value s) instead of sorted sets.
local FH = {}
local function zset(key, m, s)
  local a = zagg[key]
  if not a then a = {o = {}, v = {}} zagg[key] = a zk[#zk + 1] = key end
  if a.v[m] == nil then a.o[#a.o + 1] = m end
  a.v[m] = s
end
local function flush_hash(k, o, d)
  for i = 1, #o, 500 do
    local fs = {unpack(o, i, math.min(i + 499, #o))}
    local cur = redis.call('HMGET', k, unpack(fs))
    local set = {}
    for j, f in ipairs(fs) do
      set[#set + 1] = f
      set[#set + 1] = I((tonumber(cur[j]) or 0) + d[i + j - 1])
    end
    redis.call('HSET', k, unpack(set))
  end
end
-- Upgrade: the release before kept the FRT values of a day in a sorted set
-- (score = seconds, ms precision). Met by a hash write (WRONGTYPE), such a
-- key becomes the hash it is now (value = ms), TTL kept, and the write is
-- retried: no extra command while the key is a hash.
local function frt_migrate(k)
  local z = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  local ttl = redis.call('PTTL', k)
  redis.call('DEL', k)
  for i = 1, #z, 1000 do
    local set = {}
    for j = i, math.min(i + 999, #z), 2 do
      set[#set + 1] = z[j]
      set[#set + 1] = I(math.floor(tonumber(z[j + 1]) * 1000 + 0.5))
    end
    redis.call('HSET', k, unpack(set))
  end
  if ttl > 0 then redis.call('PEXPIRE', k, ttl) end
end
local function hwrite(cmd, k, a, i, j)
  local r = redis.pcall(cmd, k, unpack(a, i, j))
  if type(r) == 'table' and r.err then
    if not string.find(r.err, 'WRONGTYPE', 1, true) then error(r) end
    frt_migrate(k)
    redis.call(cmd, k, unpack(a, i, j))
  end
end
local function zwrite(cmd, k, a, i, j) redis.call(cmd, k, unpack(a, i, j)) end
local touched = {}
-- The brand's version (key v): incremented by every call that changed what
-- the tracker's C logic reads (records, thread indexes, the watermark), so
-- that logic's commit of what it read before is refused (commit.lua).
local function version_bump() redis.call('INCR', P .. 'v') end
local function flush()
  if #dorder > 0 or #zk > 0 or #GORD > 0 then version_bump() end
  put_records()
  -- The groups' counters, per day hash (UTC and local: the same deltas).
  -- Two groups can share a field of a hash (same UTC day, other local day).
  local hk, hf, hd, hi = {}, {}, {}, {}
  for _, g in ipairs(GORD) do
    for _, k in ipairs({P .. 'd:u:' .. g.ud, P .. 'd:l:' .. g.ld}) do
      if not hf[k] then hk[#hk + 1] = k hf[k], hd[k], hi[k] = {}, {}, {} end
      local o, d, ix = hf[k], hd[k], hi[k]
      for f, n in pairs(g.v) do
        if n ~= 0 then
          local name = g.fp .. f
          local j = ix[name]
          if j then d[j] = d[j] + n else o[#o + 1] = name d[#d + 1] = n ix[name] = #o end
        end
      end
      touched[k] = true
    end
  end
  for _, k in ipairs(hk) do flush_hash(k, hf[k], hd[k]) end
  for _, k in ipairs(zk) do
    local a = zagg[k]
    local add, rem, hash = {}, {}, FH[k]
    for _, m in ipairs(a.o) do
      local s = a.v[m]
      if not s then rem[#rem + 1] = m
      elseif hash then add[#add + 1] = m add[#add + 1] = s
      else add[#add + 1] = s add[#add + 1] = m end
    end
    local cmd_add, cmd_rem = 'ZADD', 'ZREM'
    if hash then cmd_add, cmd_rem = 'HSET', 'HDEL' end
    local w = hash and hwrite or zwrite
    for i = 1, #add, 1000 do w(cmd_add, k, add, i, math.min(i + 999, #add)) end
    for i = 1, #rem, 500 do w(cmd_rem, k, rem, i, math.min(i + 499, #rem)) end
  end
  for k in pairs(touched) do redis.call('EXPIRE', k, RET) end
  zk, zagg, touched, GRP, GORD, GC = {}, {}, {}, {}, {}, {}
end
-- Counters of one day bucket, in both families (UTC day, local day). Keys
-- and field prefixes are built once per call.
local function bump_day(ud, ld, pf, team, field, n)
  local v = group(ud, ld, pf, team).v
  v[field] = (v[field] or 0) + n
end
-- The group of a record is looked up once per call (GC, keyed by the table).
local function bump(h, field, n)
  local g = GC[h]
  if not g then g = group(h.ud, h.ld, h.pf, h.team).v GC[h] = g end
  g[field] = (g[field] or 0) + n
end
local function bucket(ms)
  if ms < 900000 then return 0 elseif ms < 3600000 then return 1
  elseif ms < 14400000 then return 2 elseif ms < 28800000 then return 3
  elseif ms < 86400000 then return 4 end
  return 5
end
local BUCKETF = {[0] = 'frt_b0', 'frt_b1', 'frt_b2', 'frt_b3', 'frt_b4', 'frt_b5'}
-- One FRT value in the hashes of its day (field platform|team|eid, value
-- the FRT in ms): a hash, not a sorted set, because the readers sort the
-- values anyway and a hash field costs Redis a fraction of a sorted-set
-- member.
local ZK = {f = {u = {}, l = {}}, bf = {u = {}, l = {}}}
local function zput(h, fam, ms)
  local m = h.pf .. '|' .. h.team .. '|' .. h.eid
  local zu, zl = ZK[fam].u, ZK[fam].l
  local ku, kl = zu[h.ud], zl[h.ld]
  if not ku then ku = P .. fam .. ':u:' .. h.ud zu[h.ud] = ku FH[ku] = true end
  if not kl then kl = P .. fam .. ':l:' .. h.ld zl[h.ld] = kl FH[kl] = true end
  if ms then
    local s = ms
    zset(ku, m, s)
    zset(kl, m, s)
    touched[ku] = true
    touched[kl] = true
  else
    zset(ku, m, false)
    zset(kl, m, false)
  end
end
local function frt_count(h, frt, sign)
  bump(h, 'frt_sum_ms', sign * frt)
  bump(h, BUCKETF[bucket(frt)], sign)
  if sign > 0 then zput(h, 'f', frt) else zput(h, 'f', nil) end
end
-- Event time of the brand (docs/TRACKING.md, "The timer"): key wm holds
-- "<max created_at of the brand's social.posts records>|<when the last one
-- was processed>" (ms). The timer's clock is min(now, watermark - lateness),
-- or now when the brand's stream has been idle for `idle` (0: at once, i.e.
-- processing-time breaches). A brand's silence starts with its first call.
local WM, WM_LAST, WM_DIRTY = 0, 0, false
local function wm_load(v)
  if v then
    local i = string.find(v, '|', 1, true)
    if i then
      WM, WM_LAST = tonumber(string.sub(v, 1, i - 1)) or 0,
        tonumber(string.sub(v, i + 1)) or 0
    end
  end
end
local function wm_advance(ms, now)
  if ms <= 0 then return end
  if ms > WM then WM = ms end
  WM_LAST = now
  WM_DIRTY = true
end
local function wm_store()
  if WM_DIRTY then
    redis.call('SET', P .. 'wm', I(WM) .. '|' .. I(WM_LAST))
    version_bump()
  end
end
local function event_clock(now, lateness, idle)
  if now - WM_LAST >= idle then return now end
  local e = WM - lateness
  if e > now then e = now end
  return e
end
-- What a record (or the timer) produced, in arrays reused per record (no
-- table per event): NEV SLA events (kind, replied at, FRT, the post's
-- record), NB business-FRT requests for the worker (post key, created,
-- first reply, calendar), ST the status codes.
local NEV, EVK, EVR, EVF, EVP = 0, {}, {}, {}, {}
local NB, BK, BCA, BRC, BCAL = 0, {}, {}, {}, {}
local ST = ''
local function out_reset() NEV, NB, ST = 0, 0, '' end
local function ev(h, kind)
  NEV = NEV + 1
  EVK[NEV], EVR[NEV], EVF[NEV], EVP[NEV] = kind, h.rca or '', h.frt or '', h
end
local function breq(key, ca, rca, cal)
  NB = NB + 1
  BK[NB], BCA[NB], BRC[NB], BCAL[NB] = key, ca, rca, cal
end
-- Status codes (one letter each, sc_track.c count_status).
local SCODE = {inbound = 'i', first = 'f', earlier = 'e', extra = 'x',
  no_need = 'n', early = 'y', reconciled = 'c', dup = 'd', matched = 'm'}
local function status(s) ST = ST .. SCODE[s] end
-- A record's result: its status codes alone, or followed by "\0B\0key\0
-- created\0first reply\0calendar" per request, "\0E\0kind\0replied\0frt"
-- per event and then once "\0P\0eid\0pf\0pid\0team\0prio\0created\0due
-- \0url\0text" (the events' post: the text runs to the end: only it can
-- hold a NUL).
local function post_part(h)
  return '\0P\0' .. h.eid .. '\0' .. h.pf .. '\0' .. h.pid .. '\0' .. h.team ..
    '\0' .. (h.prio or '') .. '\0' .. h.ca .. '\0' .. (h.due or '0') .. '\0' ..
    (h.url or '') .. '\0' .. (h.txt or '')
end
local function result()
  if NEV == 0 and NB == 0 then return ST end
  if NEV == 1 and NB == 0 then
    -- The common case (a reply's hit or late) in one concatenation.
    return ST .. '\0E\0' .. EVK[1] .. '\0' .. EVR[1] .. '\0' .. EVF[1] .. post_part(EVP[1])
  end
  local o = {ST}
  for i = 1, NB do
    o[#o + 1] = '\0B\0' .. BK[i] .. '\0' .. BCA[i] .. '\0' .. BRC[i] .. '\0' .. BCAL[i]
  end
  for i = 1, NEV do
    o[#o + 1] = '\0E\0' .. EVK[i] .. '\0' .. EVR[i] .. '\0' .. EVF[i]
  end
  if NEV > 0 then o[#o + 1] = post_part(EVP[NEV]) end
  return table.concat(o)
end
-- The held reply rid (platform pf) leaves its hold: its hold data, or nil
-- when it is not held (any more).
local function take_early(pf, rid)
  local ok = P .. 'p:' .. pf .. ':' .. rid
  local o = get(ok)
  zset(P .. 'early', pf .. ':' .. rid, false)
  if not o or not o.h then return nil end
  local e = o.h
  e.eid = o.be
  o.h = nil
  put(ok, o)
  if e.par ~= '' then
    local pk = P .. 'p:' .. pf .. ':' .. e.par
    local p = get(pk)
    if p and p.w then
      for i, x in ipairs(p.w) do
        if x == rid then table.remove(p.w, i) break end
      end
      if #p.w == 0 then p.w = nil end
      if p.k == 'w' and not p.w and not p.et then del(pk) else put(pk, p) end
    end
  end
  if e.tr == '1' and e.th ~= '' then
    redis.call('ZREM', P .. 'et:' .. pf .. ':' .. e.th, rid)
  end
  return e
end
-- The oldest unanswered needs-reply inbound post of a thread created <= rca:
-- the thread's root post (its id is the thread id, not indexed) or one of
-- the thread index t:<platform>:<thread> (the other posts of the thread).
local function thread_open(pf, th, rca)
  if th == '' then return nil end
  rca = tonumber(rca)
  local bk, bh, bca, bid = nil, nil, nil, nil
  local rk = P .. 'p:' .. pf .. ':' .. th
  local r = get(rk)
  if r and r.k == 'i' and r.nr == '1' and not r.rca and tonumber(r.ca) <= rca then
    bk, bh, bca, bid = rk, r, tonumber(r.ca), th
  end
  local tk = P .. 't:' .. pf .. ':' .. th
  for _, c in ipairs(redis.call('ZRANGEBYSCORE', tk, '-inf', I(rca), 'LIMIT', 0, 8)) do
    local ck = P .. 'p:' .. pf .. ':' .. c
    local ch = get(ck)
    if ch and ch.k == 'i' and not ch.rca then
      local ca = tonumber(ch.ca)
      if not bca or ca < bca or (ca == bca and c < bid) then bk, bh = ck, ch end
      break
    end
    redis.call('ZREM', tk, c)
  end
  return bk, bh
end
-- Business FRT of the post's (new) first reply: on a wall-clock calendar it
-- is the FRT, counted here (h.bf), else the worker computes it from the
-- calendar and sets it with bfrt.lua ('B': post key, created, first reply,
-- calendar).
local function business(key, h)
  if h.cal and NEEDCAL[h.cal] then
    breq(key, h.ca, h.rca, h.cal)
    return
  end
  -- The bf sets hold only values that differ from the FRT (readers take
  -- the FRT of a member missing there).
  h.bf = h.frt
  bump(h, 'bfrt_sum_ms', tonumber(h.bf))
  bump(h, 'bfrt_n', 1)
end
-- A missed post turned into a hit: the hit, and the retraction of its
-- breach when one was emitted (bx).
local function recovered(h)
  ev(h, 'hit')
  if h.bx then ev(h, 'recovered') h.bx = nil end
end
-- A brand reply (event reid, created rca) answers the inbound post h (key).
-- clock: the event-time clock (event_clock) deciding whether a late first
-- reply's breach is certain now.
-- rcas: rca as its text when the caller has it.
local function apply_reply(key, h, reid, rca, clock, grace, rcas)
  if h.nr ~= '1' then bump(h, 'replied_no_need', 1) return 'no_need' end
  local due = tonumber(h.due or '0')
  local ca = tonumber(h.ca)
  local frt = rca - ca
  if frt < 0 then frt = 0 end
  if h.rca then
    local old = tonumber(h.rca)
    bump(h, 'extra_replies', 1)
    if rca >= old then return 'extra' end
    -- An earlier reply arrived after a later one: it becomes the first.
    frt_count(h, tonumber(h.frt), -1)
    if h.bf then
      bump(h, 'bfrt_sum_ms', -tonumber(h.bf))
      bump(h, 'bfrt_n', -1)
      zput(h, 'bf', nil)
      h.bf = nil
    end
    h.rca, h.reid, h.frt = I(rca), reid, I(frt)
    frt_count(h, frt, 1)
    if due > 0 and old > due and rca <= due then
      bump(h, 'late', -1)
      bump(h, 'sla_missed', -1)
      bump(h, 'sla_hit', 1)
      h.oc = 'hit'
      if h.st == 'lb' then
        -- Its breach was never declared: no event to retract.
        h.st = 'done'
        zset(P .. 'lb', h.pf .. ':' .. h.pid, false)
        ev(h, 'hit')
      else
        -- A late the timer decided and has not delivered yet is not true
        -- any more (the breach it came with is retracted by recovered).
        zset(P .. 'outbox', 'late|' .. h.pf .. ':' .. h.pid, false)
        recovered(h)
      end
    end
    business(key, h)
    put(key, h)
    return 'earlier'
  end
  local st = h.st
  h.rca, h.reid, h.frt, h.st = rcas or I(rca), reid, I(frt), 'done'
  bump(h, 'replied', 1)
  frt_count(h, frt, 1)
  if h.th ~= '' and h.th ~= h.pid then
    redis.call('ZREM', P .. 't:' .. h.pf .. ':' .. h.th, h.pid)
  end
  if due > 0 then
    if st == 'open' then
      zset(P .. 'pending', h.pf .. ':' .. h.pid, false)
      bump(h, 'pending', -1)
    end
    if rca <= due then
      bump(h, 'sla_hit', 1)
      h.oc = 'hit'
      if st == 'missed' then
        bump(h, 'sla_missed', -1)
        recovered(h)
      else
        ev(h, 'hit')
      end
    else
      bump(h, 'late', 1)
      h.oc = 'late'
      if st == 'open' then
        -- Unanswered at due and the timer had not noticed yet: missed. The
        -- breach (and late) events only once event time is past due +
        -- grace: an earlier reply may still be on its way.
        bump(h, 'sla_missed', 1)
        if clock > due + grace then
          local rca_s, frt_s = h.rca, h.frt
          h.rca, h.frt = nil, nil
          ev(h, 'breach')
          h.rca, h.frt = rca_s, frt_s
          h.bx = '1'
          ev(h, 'late')
        else
          h.st = 'lb'
          zset(P .. 'lb', h.pf .. ':' .. h.pid, h.due)
        end
      else
        ev(h, 'late')
      end
    end
  end
  business(key, h)
  put(key, h)
  return 'first'
end
-- What a replay of this record must return again, kept compactly in its
-- record: {post key, the kinds of the SLA events it emitted for that post,
-- '1' when it asked for business FRT} (nil: nothing). A record's events are
-- all of one post.
local function kept(pk)
  if NEV == 0 and NB == 0 then return nil end
  return {pk, table.concat(EVK, ',', 1, NEV), NB > 0 and '1' or nil}
end
-- A replay returns the SLA events (same event ids, from the post's record
-- as it is now) and business-FRT requests of the first application again,
-- marked 'dup'.
local function replay(r)
  local h = r and get(r[1])
  if h and h.k == 'i' then
    for kind in string.gmatch(r[2], '[^,]+') do
      if kind == 'breach' then
        local rca_s, frt_s = h.rca, h.frt
        h.rca, h.frt = nil, nil
        ev(h, kind)
        h.rca, h.frt = rca_s, frt_s
      else
        ev(h, kind)
      end
    end
    if r[3] and h.rca then breq(r[1], h.ca, h.rca, h.cal) end
  end
  status('dup')
  return result()
end
