-- A brand reply (is_brand post of social.posts). KEYS[1] the reply's own
-- hash. ARGV[4..] eid pf pid parent thread created uday lday now
-- reconcile_window_ms.
local seen = P .. 's:b:' .. ARGV[4]
local r = replay(seen)
if r then return r end
local eid, pf, pid, par, th = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local rca = tonumber(ARGV[9])
if redis.call('HSETNX', KEYS[1], 'k', 'b') == 1 then
  redis.call('EXPIRE', KEYS[1], TTL)
end
local ph = nil
if par ~= '' then ph = hgetall(P .. 'p:' .. pf .. ':' .. par) end
local tkey, t = nil, nil
local thread_rule = par == '' or (ph ~= nil and ph.k == 'b')
if ph and ph.k == 'i' then
  tkey, t = P .. 'p:' .. pf .. ':' .. par, ph
elseif thread_rule then
  tkey, t = thread_open(pf, th, ARGV[9])
end
if t then
  status(apply_reply(tkey, t, eid, rca))
  status('matched')
else
  -- Held: an unknown parent waits for that parent (the thread rule applies
  -- when the window ends), a brand-post parent waits for a thread post.
  local ek = P .. 'e:' .. pf .. ':' .. pid
  redis.call('HSET', ek, 'eid', eid, 'ca', ARGV[9], 'par', par, 'th', th,
    'ud', ARGV[10], 'ld', ARGV[11])
  redis.call('EXPIRE', ek, TTL)
  if par ~= '' then
    redis.call('ZADD', P .. 'ep:' .. pf .. ':' .. par, ARGV[9], pid)
    redis.call('EXPIRE', P .. 'ep:' .. pf .. ':' .. par, TTL)
  end
  if thread_rule and th ~= '' then
    redis.call('ZADD', P .. 'et:' .. pf .. ':' .. th, ARGV[9], pid)
    redis.call('EXPIRE', P .. 'et:' .. pf .. ':' .. th, TTL)
  end
  redis.call('ZADD', P .. 'early', I(tonumber(ARGV[12]) + tonumber(ARGV[13])),
    pf .. ':' .. pid)
  status('early')
end
return finish(seen)
