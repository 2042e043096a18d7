/* The tracker's Lua scripts (see docs/TRACKING.md for the data model). Each
 * script is one atomic, idempotent step on one brand's keys: every key it
 * touches starts with the prefix ARGV[1] = "sc:{<brand>}:" (one hash slot).
 * KEYS[1] is the main key of the call so a cluster client routes it.
 *
 * Common ARGV: [1] prefix, [2] retention of day keys (s), [3] TTL of post
 * state, seen markers and thread indexes (s). */
#include "sc_track_lua.h"

#define PRELUDE                                                                          \
        "local P = ARGV[1]\n"                                                            \
        "local RET = tonumber(ARGV[2])\n"                                                \
        "local TTL = tonumber(ARGV[3])\n"                                                \
        "local touched = {}\n"                                                           \
        "local out = {}\n"                                                               \
        "local function I(n) return string.format('%d', n) end\n"                        \
        "local function hgetall(key)\n"                                                  \
        "  local a = redis.call('HGETALL', key)\n"                                       \
        "  if #a == 0 then return nil end\n"                                             \
        "  local h = {}\n"                                                               \
        "  for i = 1, #a, 2 do h[a[i]] = a[i + 1] end\n"                                 \
        "  return h\n"                                                                   \
        "end\n" /* Counters of one day bucket: both families (UTC day, local day). */    \
        "local function bump_day(ud, ld, pf, team, field, n)\n"                          \
        "  if n == 0 then return end\n"                                                  \
        "  local f = pf .. '|' .. team .. '|' .. field\n"                                \
        "  local ku, kl = P .. 'd:u:' .. ud, P .. 'd:l:' .. ld\n"                        \
        "  redis.call('HINCRBY', ku, f, I(n))\n"                                         \
        "  redis.call('HINCRBY', kl, f, I(n))\n"                                         \
        "  touched[ku] = true\n"                                                         \
        "  touched[kl] = true\n"                                                         \
        "end\n"                                                                          \
        "local function bump(h, field, n) bump_day(h.ud, h.ld, h.pf, h.team, field, n) " \
        "end\n"                                                                          \
        "local function expire_touched()\n"                                              \
        "  for k in pairs(touched) do redis.call('EXPIRE', k, RET) end\n"                \
        "end\n"                                                                          \
        "local function bucket(ms)\n"                                                    \
        "  if ms < 900000 then return 0 elseif ms < 3600000 then return 1\n"             \
        "  elseif ms < 14400000 then return 2 elseif ms < 28800000 then return 3\n"      \
        "  elseif ms < 86400000 then return 4 end\n"                                     \
        "  return 5\n"                                                                   \
        "end\n" /* One FRT value in the sorted sets of its day (member:                  \
                   platform|team|eid). */                                                \
        "local function zput(h, fam, ms)\n"                                              \
        "  local m = h.pf .. '|' .. h.team .. '|' .. h.eid\n"                            \
        "  local ku, kl = P .. fam .. ':u:' .. h.ud, P .. fam .. ':l:' .. h.ld\n"        \
        "  if ms then\n"                                                                 \
        "    local s = string.format('%.3f', ms / 1000)\n"                               \
        "    redis.call('ZADD', ku, s, m)\n"                                             \
        "    redis.call('ZADD', kl, s, m)\n"                                             \
        "    touched[ku] = true\n"                                                       \
        "    touched[kl] = true\n"                                                       \
        "  else\n"                                                                       \
        "    redis.call('ZREM', ku, m)\n"                                                \
        "    redis.call('ZREM', kl, m)\n"                                                \
        "  end\n"                                                                        \
        "end\n"                                                                          \
        "local function frt_count(h, frt, sign)\n"                                       \
        "  bump(h, 'frt_sum_ms', sign * frt)\n"                                          \
        "  bump(h, 'frt_b' .. bucket(frt), sign)\n"                                      \
        "  if sign > 0 then zput(h, 'f', frt) else zput(h, 'f', nil) end\n"              \
        "end\n" /* An SLA event for the worker to produce; 'B' asks it for business FRT. \
                 */                                                                      \
        "local function ev(h, kind)\n"                                                   \
        "  out[#out + 1] = {'E', kind, h.eid, h.pf, h.pid, h.team, h.prio or '', "       \
        "h.ca,\n"                                                                        \
        "    h.due or '0', h.rca or '', h.frt or '', h.url or '', h.txt or ''}\n"        \
        "end\n"                                                                          \
        "local function status(s) out[#out + 1] = {'S', s} end\n"                        \
        "local function take_early(pf, rpid)\n"                                          \
        "  local ek = P .. 'e:' .. pf .. ':' .. rpid\n"                                  \
        "  local e = hgetall(ek)\n"                                                      \
        "  redis.call('ZREM', P .. 'early', pf .. ':' .. rpid)\n"                        \
        "  if not e then return nil end\n"                                               \
        "  redis.call('DEL', ek)\n"                                                      \
        "  if e.par ~= '' then redis.call('ZREM', P .. 'ep:' .. pf .. ':' .. e.par, "    \
        "rpid) end\n"                                                                    \
        "  if e.th ~= '' then redis.call('ZREM', P .. 'et:' .. pf .. ':' .. e.th, "      \
        "rpid) "                                                                         \
        "end\n"                                                                          \
        "  return e\n"                                                                   \
        "end\n" /* A brand reply (event reid, created rca) answers the inbound post h.   \
                 */                                                                      \
        "local function apply_reply(key, h, reid, rca)\n"                                \
        "  if h.nr ~= '1' then bump(h, 'replied_no_need', 1) return 'no_need' end\n"     \
        "  local due = tonumber(h.due)\n"                                                \
        "  local ca = tonumber(h.ca)\n"                                                  \
        "  local frt = rca - ca\n"                                                       \
        "  if frt < 0 then frt = 0 end\n"                                                \
        "  if h.rca then\n"                                                              \
        "    local old = tonumber(h.rca)\n"                                              \
        "    bump(h, 'extra_replies', 1)\n"                                              \
        "    if rca >= old then return 'extra' end\n"                                    \
        "    frt_count(h, tonumber(h.frt), -1)\n"                                        \
        "    if h.bf then\n"                                                             \
        "      bump(h, 'bfrt_sum_ms', -tonumber(h.bf))\n"                                \
        "      bump(h, 'bfrt_n', -1)\n"                                                  \
        "      zput(h, 'bf', nil)\n"                                                     \
        "      redis.call('HDEL', key, 'bf')\n"                                          \
        "      h.bf = nil\n"                                                             \
        "    end\n"                                                                      \
        "    h.rca, h.reid, h.frt = I(rca), reid, I(frt)\n"                              \
        "    redis.call('HSET', key, 'rca', h.rca, 'reid', reid, 'frt', h.frt)\n"        \
        "    frt_count(h, frt, 1)\n"                                                     \
        "    if due > 0 and old > due and rca <= due then\n"                             \
        "      bump(h, 'late', -1)\n"                                                    \
        "      bump(h, 'sla_missed', -1)\n"                                              \
        "      bump(h, 'sla_hit', 1)\n"                                                  \
        "      h.oc = 'hit'\n"                                                           \
        "      redis.call('HSET', key, 'oc', 'hit')\n"                                   \
        "      ev(h, 'hit')\n"                                                           \
        "    end\n"                                                                      \
        "    out[#out + 1] = {'B', key, h.ca, h.rca, h.cal or ''}\n"                     \
        "    return 'earlier'\n"                                                         \
        "  end\n"                                                                        \
        "  local st = h.st\n"                                                            \
        "  h.rca, h.reid, h.frt, h.st = I(rca), reid, I(frt), 'done'\n"                  \
        "  redis.call('HSET', key, 'rca', h.rca, 'reid', reid, 'frt', h.frt, 'st', "     \
        "'done')\n"                                                                      \
        "  bump(h, 'replied', 1)\n"                                                      \
        "  frt_count(h, frt, 1)\n"                                                       \
        "  if h.th ~= '' then redis.call('ZREM', P .. 't:' .. h.pf .. ':' .. h.th, "     \
        "h.pid) end\n"                                                                   \
        "  if due > 0 then\n"                                                            \
        "    if st == 'open' then\n"                                                     \
        "      redis.call('ZREM', P .. 'pending', h.pf .. ':' .. h.pid)\n"               \
        "      bump(h, 'pending', -1)\n"                                                 \
        "    end\n"                                                                      \
        "    if rca <= due then\n"                                                       \
        "      bump(h, 'sla_hit', 1)\n"                                                  \
        "      if st == 'missed' then bump(h, 'sla_missed', -1) end\n"                   \
        "      h.oc = 'hit'\n"                                                           \
        "      ev(h, 'hit')\n"                                                           \
        "    else\n"                                                                     \
        "      bump(h, 'late', 1)\n"                                                     \
        "      if st == 'open' then\n"                                                   \
        "        bump(h, 'sla_missed', 1)\n"                                             \
        "        local rca_s, frt_s = h.rca, h.frt\n"                                    \
        "        h.rca, h.frt = nil, nil\n"                                              \
        "        ev(h, 'breach')\n"                                                      \
        "        h.rca, h.frt = rca_s, frt_s\n"                                          \
        "      end\n"                                                                    \
        "      h.oc = 'late'\n"                                                          \
        "      ev(h, 'late')\n"                                                          \
        "    end\n"                                                                      \
        "    redis.call('HSET', key, 'oc', h.oc)\n"                                      \
        "  end\n"                                                                        \
        "  out[#out + 1] = {'B', key, h.ca, h.rca, h.cal or ''}\n"                       \
        "  return 'first'\n"                                                             \
        "end\n" /* Replays return what the first application returned, marked 'dup'. */  \
        "local function replay(seen)\n"                                                  \
        "  local prev = redis.call('GET', seen)\n"                                       \
        "  if not prev then return nil end\n"                                            \
        "  local r = cjson.decode(prev)\n"                                               \
        "  if type(r) ~= 'table' then r = {} end\n"                                      \
        "  r[#r + 1] = {'S', 'dup'}\n"                                                   \
        "  return r\n"                                                                   \
        "end\n"                                                                          \
        "local function finish(seen)\n"                                                  \
        "  expire_touched()\n"                                                           \
        "  redis.call('SET', seen, #out > 0 and cjson.encode(out) or '[]', 'EX', TTL)\n" \
        "  return out\n"                                                                 \
        "end\n"

/* KEYS[1] post hash. ARGV[4..] eid pf pid thread team prio uday lday created
 * needs_reply(0|1) due(0: none) calendar url text. */
const char sc_track_lua_inbound[] = PRELUDE
    "local key = KEYS[1]\n"
    "local seen = P .. 's:i:' .. ARGV[4]\n"
    "local r = replay(seen)\n"
    "if r then return r end\n"
    "local old = hgetall(key)\n"
    "if old and old.k == 'i' then status('dup') return finish(seen) end\n"
    "local h = {k = 'i', eid = ARGV[4], pf = ARGV[5], pid = ARGV[6], th = ARGV[7],\n"
    "  team = ARGV[8], prio = ARGV[9], ud = ARGV[10], ld = ARGV[11], ca = ARGV[12],\n"
    "  nr = ARGV[13], due = ARGV[14], cal = ARGV[15], url = ARGV[16], txt = ARGV[17]}\n"
    "h.st = (h.nr == '1') and 'open' or 'nn'\n"
    "redis.call('HSET', key, 'k', 'i', 'eid', h.eid, 'pf', h.pf, 'pid', h.pid, 'th', "
    "h.th,\n"
    "  'team', h.team, 'prio', h.prio, 'ud', h.ud, 'ld', h.ld, 'ca', h.ca, 'nr', h.nr,\n"
    "  'due', h.due, 'cal', h.cal, 'url', h.url, 'txt', h.txt, 'st', h.st)\n"
    "redis.call('EXPIRE', key, TTL)\n"
    "bump(h, 'received', 1)\n"
    "status('inbound')\n"
    "if h.nr == '1' then\n"
    "  bump(h, 'needs_reply', 1)\n"
    "  if tonumber(h.due) > 0 then\n"
    "    bump(h, 'with_due', 1)\n"
    "    bump(h, 'pending', 1)\n"
    "    redis.call('ZADD', P .. 'pending', h.due, h.pf .. ':' .. h.pid)\n"
    "  end\n"
    "  if h.th ~= '' then\n"
    "    local tk = P .. 't:' .. h.pf .. ':' .. h.th\n"
    "    redis.call('ZADD', tk, h.ca, h.pid)\n"
    "    redis.call('EXPIRE', tk, TTL)\n"
    "  end\n"
    "end\n"
    /* Early replies: first those naming this post as parent... */
    "local ek = P .. 'ep:' .. h.pf .. ':' .. h.pid\n"
    "for _, rpid in ipairs(redis.call('ZRANGE', ek, 0, -1)) do\n"
    "  local e = take_early(h.pf, rpid)\n"
    "  redis.call('ZREM', ek, rpid)\n"
    "  if e then\n"
    "    status(apply_reply(key, h, e.eid, tonumber(e.ca)))\n"
    "    status('reconciled')\n"
    "  end\n"
    "end\n"
    /* ...then the earliest one of its thread created after it. */
    "if h.nr == '1' and not h.rca and h.th ~= '' then\n"
    "  local tk = P .. 'et:' .. h.pf .. ':' .. h.th\n"
    "  local c = redis.call('ZRANGEBYSCORE', tk, h.ca, '+inf', 'LIMIT', 0, 1)\n"
    "  if c[1] then\n"
    "    local e = take_early(h.pf, c[1])\n"
    "    redis.call('ZREM', tk, c[1])\n"
    "    if e then\n"
    "      status(apply_reply(key, h, e.eid, tonumber(e.ca)))\n"
    "      status('reconciled')\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return finish(seen)\n";

/* KEYS[1] the brand post's own hash. ARGV[4..] eid pf pid parent thread
 * created uday lday now reconcile_window_ms. */
const char sc_track_lua_reply[] = PRELUDE
    "local seen = P .. 's:b:' .. ARGV[4]\n"
    "local r = replay(seen)\n"
    "if r then return r end\n"
    "local eid, pf, pid, par, th = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]\n"
    "local rca = tonumber(ARGV[9])\n"
    "if redis.call('HSETNX', KEYS[1], 'k', 'b') == 1 then\n"
    "  redis.call('EXPIRE', KEYS[1], TTL)\n"
    "end\n"
    "local tkey, t = nil, nil\n"
    "if par ~= '' then\n"
    "  local pk = P .. 'p:' .. pf .. ':' .. par\n"
    "  local ph = hgetall(pk)\n"
    "  if ph and ph.k == 'i' then tkey, t = pk, ph end\n"
    "end\n"
    "if not t and th ~= '' then\n"
    "  local tk = P .. 't:' .. pf .. ':' .. th\n"
    "  for _, c in ipairs(redis.call('ZRANGEBYSCORE', tk, '-inf', ARGV[9], 'LIMIT', 0, "
    "8)) do\n"
    "    local ck = P .. 'p:' .. pf .. ':' .. c\n"
    "    local ch = hgetall(ck)\n"
    "    if ch and ch.k == 'i' and not ch.rca then tkey, t = ck, ch break end\n"
    "    redis.call('ZREM', tk, c)\n"
    "  end\n"
    "end\n"
    "if t then\n"
    "  status(apply_reply(tkey, t, eid, rca))\n"
    "  status('matched')\n"
    "else\n"
    "  local ek = P .. 'e:' .. pf .. ':' .. pid\n"
    "  redis.call('HSET', ek, 'eid', eid, 'ca', ARGV[9], 'par', par, 'th', th, 'ud', "
    "ARGV[10],\n"
    "    'ld', ARGV[11])\n"
    "  redis.call('EXPIRE', ek, TTL)\n"
    "  if par ~= '' then\n"
    "    redis.call('ZADD', P .. 'ep:' .. pf .. ':' .. par, ARGV[9], pid)\n"
    "    redis.call('EXPIRE', P .. 'ep:' .. pf .. ':' .. par, TTL)\n"
    "  end\n"
    "  if th ~= '' then\n"
    "    redis.call('ZADD', P .. 'et:' .. pf .. ':' .. th, ARGV[9], pid)\n"
    "    redis.call('EXPIRE', P .. 'et:' .. pf .. ':' .. th, TTL)\n"
    "  end\n"
    "  redis.call('ZADD', P .. 'early', I(tonumber(ARGV[12]) + tonumber(ARGV[13])), pf "
    ".. ':' .. pid)\n"
    "  status('early')\n"
    "end\n"
    "return finish(seen)\n";

/* KEYS[1] post hash. ARGV[4..] reply_created business_frt_ms. Records the
 * business FRT of the post's current first reply, once. */
const char sc_track_lua_bfrt[] =
    PRELUDE "local h = hgetall(KEYS[1])\n"
            "if not h or h.rca ~= ARGV[4] or h.bf then return 0 end\n"
            "local bf = tonumber(ARGV[5])\n"
            "redis.call('HSET', KEYS[1], 'bf', ARGV[5])\n"
            "bump(h, 'bfrt_sum_ms', bf)\n"
            "bump(h, 'bfrt_n', 1)\n"
            "zput(h, 'bf', bf)\n"
            "expire_touched()\n"
            "return 1\n";

/* KEYS[1] pending set. ARGV[4..] now grace_ms limit. Breaches what is due,
 * moves it to the outbox; turns expired early replies into orphans.
 * Returns {breached, orphaned}. */
const char sc_track_lua_scan[] = PRELUDE
    "local now, grace, lim = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])\n"
    "local nb, no = 0, 0\n"
    "for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. I(now - "
    "grace),\n"
    "    'LIMIT', 0, lim)) do\n"
    "  local pk = P .. 'p:' .. m\n"
    "  local h = hgetall(pk)\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "  if h and h.st == 'open' then\n"
    "    redis.call('HSET', pk, 'st', 'missed')\n"
    "    bump(h, 'sla_missed', 1)\n"
    "    bump(h, 'pending', -1)\n"
    "    redis.call('ZADD', P .. 'outbox', h.due, m)\n"
    "    nb = nb + 1\n"
    "  end\n"
    "end\n"
    "for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'early', '-inf', I(now), "
    "'LIMIT', 0, lim)) do\n"
    "  local i = string.find(m, ':', 1, true)\n"
    "  local pf, rpid = string.sub(m, 1, i - 1), string.sub(m, i + 1)\n"
    "  local e = take_early(pf, rpid)\n"
    "  if e then\n"
    "    bump_day(e.ud, e.ld, pf, '-', 'orphan_replies', 1)\n"
    "    no = no + 1\n"
    "  end\n"
    "end\n"
    "expire_touched()\n"
    "return {nb, no}\n";

/* KEYS[1] outbox. ARGV[4] limit. The breaches still to be produced:
 * {member, eid, pf, pid, team, prio, created, due, url, text} each. */
const char sc_track_lua_outbox[] = PRELUDE
    "local res = {}\n"
    "for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)) do\n"
    "  local h = hgetall(P .. 'p:' .. m)\n"
    "  if h then\n"
    "    res[#res + 1] = {m, h.eid, h.pf, h.pid, h.team, h.prio, h.ca, h.due, h.url, "
    "h.txt}\n"
    "  else\n"
    "    redis.call('ZREM', KEYS[1], m)\n"
    "  end\n"
    "end\n"
    "return res\n";
