-- Shared by every tracker script (prepended to each). Every key a script
-- touches starts with the prefix ARGV[1] = "sc:{<brand>}:" (one hash slot) -
-- KEYS[1] is a key of that brand so a cluster client routes the call.
-- Common ARGV: [1] prefix, [2] retention of day keys (s), [3] TTL of post
-- state, seen markers and indexes (s).
local P = ARGV[1]
local RET = tonumber(ARGV[2])
local TTL = tonumber(ARGV[3])
local touched = {}
local out = {}
-- Calendars whose business time is not the wall clock (set by load_cals):
-- business FRT of a post on one of those is computed by the worker ('B'),
-- on any other (24x7, null or unknown: the worker uses 24x7) it is the FRT.
local NEEDCAL = {}
local function load_cals(s)
  for id in string.gmatch(s or '', '[^\n]+') do NEEDCAL[id] = true end
end
local function I(n) return string.format('%d', n) end
local function hgetall(key)
  local a = redis.call('HGETALL', key)
  if #a == 0 then return nil end
  local h = {}
  for i = 1, #a, 2 do h[a[i]] = a[i + 1] end
  return h
end
-- Day counters and FRT sets are only ever written by the scripts, never
-- read: their updates are summed here and written once per call by flush()
-- (one HINCRBY per touched field, one ZADD/ZREM per set, one EXPIRE per key).
local hk, hagg, zk, zagg = {}, {}, {}, {}
local function hincr(key, f, n)
  local a = hagg[key]
  if not a then a = {o = {}, v = {}} hagg[key] = a hk[#hk + 1] = key end
  local v = a.v[f]
  if v == nil then a.o[#a.o + 1] = f v = 0 end
  a.v[f] = v + n
end
-- s: the score (string), or false to remove m. The last write wins.
local function zset(key, m, s)
  local a = zagg[key]
  if not a then a = {o = {}, v = {}} zagg[key] = a zk[#zk + 1] = key end
  if a.v[m] == nil then a.o[#a.o + 1] = m end
  a.v[m] = s
end
local function flush()
  for _, k in ipairs(hk) do
    local a = hagg[k]
    for _, f in ipairs(a.o) do redis.call('HINCRBY', k, f, I(a.v[f])) end
  end
  for _, k in ipairs(zk) do
    local a = zagg[k]
    local add, rem = {}, {}
    for _, m in ipairs(a.o) do
      local s = a.v[m]
      if s then add[#add + 1] = s add[#add + 1] = m else rem[#rem + 1] = m end
    end
    for i = 1, #add, 1000 do
      redis.call('ZADD', k, unpack(add, i, math.min(i + 999, #add)))
    end
    for i = 1, #rem, 500 do
      redis.call('ZREM', k, unpack(rem, i, math.min(i + 499, #rem)))
    end
  end
  for k in pairs(touched) do redis.call('EXPIRE', k, RET) end
  hk, hagg, zk, zagg, touched = {}, {}, {}, {}, {}
end
-- Counters of one day bucket, in both families (UTC day, local day).
local function bump_day(ud, ld, pf, team, field, n)
  if n == 0 then return end
  local f = pf .. '|' .. team .. '|' .. field
  local ku, kl = P .. 'd:u:' .. ud, P .. 'd:l:' .. ld
  hincr(ku, f, n)
  hincr(kl, f, n)
  touched[ku] = true
  touched[kl] = true
end
local function bump(h, field, n) bump_day(h.ud, h.ld, h.pf, h.team, field, n) end
local function bucket(ms)
  if ms < 900000 then return 0 elseif ms < 3600000 then return 1
  elseif ms < 14400000 then return 2 elseif ms < 28800000 then return 3
  elseif ms < 86400000 then return 4 end
  return 5
end
-- One FRT value in the sorted sets of its day (member platform|team|eid).
local function zput(h, fam, ms)
  local m = h.pf .. '|' .. h.team .. '|' .. h.eid
  local ku, kl = P .. fam .. ':u:' .. h.ud, P .. fam .. ':l:' .. h.ld
  if ms then
    local s = string.format('%.3f', ms / 1000)
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
  bump(h, 'frt_b' .. bucket(frt), sign)
  if sign > 0 then zput(h, 'f', frt) else zput(h, 'f', nil) end
end
-- An SLA event for the worker to produce (E), B asks it for business FRT.
local function ev(h, kind)
  out[#out + 1] = {'E', kind, h.eid, h.pf, h.pid, h.team, h.prio or '', h.ca,
    h.due or '0', h.rca or '', h.frt or '', h.url or '', h.txt or ''}
end
local function status(s) out[#out + 1] = {'S', s} end
local function take_early(pf, rpid)
  local ek = P .. 'e:' .. pf .. ':' .. rpid
  local e = hgetall(ek)
  redis.call('ZREM', P .. 'early', pf .. ':' .. rpid)
  if not e then return nil end
  redis.call('DEL', ek)
  if e.par ~= '' then redis.call('ZREM', P .. 'ep:' .. pf .. ':' .. e.par, rpid) end
  if e.th ~= '' then redis.call('ZREM', P .. 'et:' .. pf .. ':' .. e.th, rpid) end
  return e
end
-- The oldest unanswered needs-reply inbound post of a thread created <= rca.
local function thread_open(pf, th, rca)
  if th == '' then return nil end
  local tk = P .. 't:' .. pf .. ':' .. th
  for _, c in ipairs(redis.call('ZRANGEBYSCORE', tk, '-inf', rca, 'LIMIT', 0, 8)) do
    local ck = P .. 'p:' .. pf .. ':' .. c
    local ch = hgetall(ck)
    if ch and ch.k == 'i' and not ch.rca then return ck, ch end
    redis.call('ZREM', tk, c)
  end
  return nil
end
-- Business FRT of the post's (new) first reply: on a wall-clock calendar it
-- is the FRT, counted here (h.bf, the caller writes it with the reply), else
-- the worker computes it from the calendar and sets it with bfrt.lua ('B':
-- post key, created, first reply, calendar).
local function business(key, h)
  if h.cal and NEEDCAL[h.cal] then
    out[#out + 1] = {'B', key, h.ca, h.rca, h.cal}
    return
  end
  h.bf = h.frt
  bump(h, 'bfrt_sum_ms', tonumber(h.bf))
  bump(h, 'bfrt_n', 1)
  zput(h, 'bf', tonumber(h.bf))
end
-- A brand reply (event reid, created rca) answers the inbound post h (key).
local function apply_reply(key, h, reid, rca)
  if h.nr ~= '1' then bump(h, 'replied_no_need', 1) return 'no_need' end
  local due = tonumber(h.due)
  local ca = tonumber(h.ca)
  local frt = rca - ca
  if frt < 0 then frt = 0 end
  if h.rca then
    local old = tonumber(h.rca)
    bump(h, 'extra_replies', 1)
    if rca >= old then return 'extra' end
    -- An earlier reply arrived after a later one: it becomes the first.
    frt_count(h, tonumber(h.frt), -1)
    local had_bf = h.bf
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
      ev(h, 'hit')
    end
    business(key, h)
    if h.bf then
      redis.call('HSET', key, 'rca', h.rca, 'reid', reid, 'frt', h.frt, 'oc', h.oc or '',
        'bf', h.bf)
    else
      redis.call('HSET', key, 'rca', h.rca, 'reid', reid, 'frt', h.frt, 'oc', h.oc or '')
      if had_bf then redis.call('HDEL', key, 'bf') end
    end
    return 'earlier'
  end
  local st = h.st
  h.rca, h.reid, h.frt, h.st = I(rca), reid, I(frt), 'done'
  bump(h, 'replied', 1)
  frt_count(h, frt, 1)
  if h.th ~= '' then redis.call('ZREM', P .. 't:' .. h.pf .. ':' .. h.th, h.pid) end
  if due > 0 then
    if st == 'open' then
      redis.call('ZREM', P .. 'pending', h.pf .. ':' .. h.pid)
      bump(h, 'pending', -1)
    end
    if rca <= due then
      bump(h, 'sla_hit', 1)
      if st == 'missed' then bump(h, 'sla_missed', -1) end
      h.oc = 'hit'
      ev(h, 'hit')
    else
      bump(h, 'late', 1)
      if st == 'open' then
        -- Unanswered at due and the timer had not noticed yet: the breach too.
        bump(h, 'sla_missed', 1)
        local rca_s, frt_s = h.rca, h.frt
        h.rca, h.frt = nil, nil
        ev(h, 'breach')
        h.rca, h.frt = rca_s, frt_s
      end
      h.oc = 'late'
      ev(h, 'late')
    end
  end
  business(key, h)
  if h.bf then
    redis.call('HSET', key, 'rca', h.rca, 'reid', reid, 'frt', h.frt, 'st', 'done',
      'oc', h.oc or '', 'bf', h.bf)
  else
    redis.call('HSET', key, 'rca', h.rca, 'reid', reid, 'frt', h.frt, 'st', 'done',
      'oc', h.oc or '')
  end
  return 'first'
end
-- Replays return what the first application returned, marked 'dup'.
local function replay(seen)
  local prev = redis.call('GET', seen)
  if not prev then return nil end
  local r = cjson.decode(prev)
  if type(r) ~= 'table' then r = {} end
  r[#r + 1] = {'S', 'dup'}
  return r
end
local function finish(seen)
  redis.call('SET', seen, #out > 0 and cjson.encode(out) or '[]', 'EX', TTL)
  return out
end
