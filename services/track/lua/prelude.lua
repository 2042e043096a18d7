-- Shared by every tracker script (prepended to each). Every key a script
-- touches starts with the prefix ARGV[1] = "sc:{<brand>}:" (one hash slot) -
-- KEYS[1] is the main key of the call so a cluster client routes it.
-- Common ARGV: [1] prefix, [2] retention of day keys (s), [3] TTL of post
-- state, seen markers and indexes (s).
local P = ARGV[1]
local RET = tonumber(ARGV[2])
local TTL = tonumber(ARGV[3])
local touched = {}
local out = {}
local function I(n) return string.format('%d', n) end
local function hgetall(key)
  local a = redis.call('HGETALL', key)
  if #a == 0 then return nil end
  local h = {}
  for i = 1, #a, 2 do h[a[i]] = a[i + 1] end
  return h
end
-- Counters of one day bucket, in both families (UTC day, local day).
local function bump_day(ud, ld, pf, team, field, n)
  if n == 0 then return end
  local f = pf .. '|' .. team .. '|' .. field
  local ku, kl = P .. 'd:u:' .. ud, P .. 'd:l:' .. ld
  redis.call('HINCRBY', ku, f, I(n))
  redis.call('HINCRBY', kl, f, I(n))
  touched[ku] = true
  touched[kl] = true
end
local function bump(h, field, n) bump_day(h.ud, h.ld, h.pf, h.team, field, n) end
local function expire_touched()
  for k in pairs(touched) do redis.call('EXPIRE', k, RET) end
end
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
    redis.call('ZADD', ku, s, m)
    redis.call('ZADD', kl, s, m)
    touched[ku] = true
    touched[kl] = true
  else
    redis.call('ZREM', ku, m)
    redis.call('ZREM', kl, m)
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
    if h.bf then
      bump(h, 'bfrt_sum_ms', -tonumber(h.bf))
      bump(h, 'bfrt_n', -1)
      zput(h, 'bf', nil)
      redis.call('HDEL', key, 'bf')
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
    redis.call('HSET', key, 'rca', h.rca, 'reid', reid, 'frt', h.frt, 'oc', h.oc or '')
    out[#out + 1] = {'B', key, h.ca, h.rca, h.cal or ''}
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
  redis.call('HSET', key, 'rca', h.rca, 'reid', reid, 'frt', h.frt, 'st', 'done',
    'oc', h.oc or '')
  out[#out + 1] = {'B', key, h.ca, h.rca, h.cal or ''}
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
  expire_touched()
  redis.call('SET', seen, #out > 0 and cjson.encode(out) or '[]', 'EX', TTL)
  return out
end
