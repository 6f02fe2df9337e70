/**
 * The limiter's one round trip (docs/limiter.md). Evaluates every rule of a request atomically and writes only when
 * every enforcing rule admits it: a denied request (429) consumes nothing, except from rules that count limited
 * requests. The clock is Redis's own TIME, so edges with skewed clocks still agree. Mirrors
 * libs/domain/src/limiter/window-math.ts.
 *
 * KEYS: per rule i, KEYS[2i-1] = hash of window counters, KEYS[2i] = sorted set of concurrency leases.
 *   Window fields `<seconds><a|s>:b|c|p` = bucket index, current count, previous count.
 * ARGV: mode ('c' check, 'p' peek: cost 0, no writes), now ms (0: Redis TIME), lease id, lease ms, rule count,
 *   then per rule: cost, shadow, countLimited, concurrency (0: none), window count, then per window: limit, seconds,
 *   aligned.
 * Reply: allowed, deciding rule (1-based, 0 none), now ms, then per rule: allowed, window denied, concurrency denied, concurrency
 *   remaining (-1: none), retry ms, window count, then per window: remaining, reset at ms.
 */
export const LIMITER_LUA = `
local peek = ARGV[1] == 'p'
local now = tonumber(ARGV[2])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local leaseId = ARGV[3]
local leaseMs = tonumber(ARGV[4])
local n = tonumber(ARGV[5])
local p = 6
local rules = {}
local deciding = 0

for i = 1, n do
  local r = { hkey = KEYS[2 * i - 1], ckey = KEYS[2 * i], cost = tonumber(ARGV[p]), shadow = ARGV[p + 1] == '1',
    countLimited = ARGV[p + 2] == '1', cc = tonumber(ARGV[p + 3]), nw = tonumber(ARGV[p + 4]),
    allowed = true, windowDenied = false, ccDenied = false, ccRemaining = -1, retry = 0, windows = {} }
  p = p + 5
  if peek then r.cost = 0 end
  if r.nw > 0 then
    local fields = {}
    for j = 1, r.nw do
      local w = { limit = tonumber(ARGV[p]), secs = tonumber(ARGV[p + 1]), aligned = ARGV[p + 2] == '1' }
      p = p + 3
      w.f = w.secs .. (w.aligned and 'a' or 's')
      fields[3 * j - 2] = w.f .. ':b'
      fields[3 * j - 1] = w.f .. ':c'
      fields[3 * j] = w.f .. ':p'
      r.windows[j] = w
    end
    local vals = redis.call('HMGET', r.hkey, unpack(fields))
    for j = 1, r.nw do
      local w = r.windows[j]
      local T = w.secs * 1000
      local bucket = math.floor(now / T)
      local sb = tonumber(vals[3 * j - 2])
      local cur, prev = 0, 0
      if sb ~= nil then
        if sb == bucket or sb > bucket then
          bucket = sb
          cur = tonumber(vals[3 * j - 1]) or 0
          prev = tonumber(vals[3 * j]) or 0
        elseif sb == bucket - 1 then
          prev = tonumber(vals[3 * j - 1]) or 0
        end
      end
      local elapsed = now - bucket * T
      if elapsed < 0 then elapsed = 0 elseif elapsed > T then elapsed = T end
      local used = cur
      if not w.aligned then used = prev * (T - elapsed) / T + cur end
      local ok = used + r.cost <= w.limit
      local after = used
      local newCur = cur
      if ok then
        after = used + r.cost
        newCur = cur + r.cost
      end
      local remaining = math.floor(w.limit - after + 1e-9)
      if remaining < 0 then remaining = 0 end
      local reset = now
      if w.aligned then reset = (bucket + 1) * T
      elseif newCur > 0 then reset = (bucket + 2) * T
      elseif prev > 0 then reset = (bucket + 1) * T end
      local retry = 0
      if not ok then
        if r.cost > w.limit then retry = T
        elseif w.aligned then retry = T - elapsed
        elseif cur + r.cost <= w.limit then
          retry = math.ceil(T - elapsed - (w.limit - cur - r.cost) * T / prev)
        else
          local into = 0
          if cur > 0 then into = T - (w.limit - r.cost) * T / cur end
          if into < 0 then into = 0 end
          retry = math.ceil(T - elapsed + into)
        end
        if retry < 1 then retry = 1 end
        r.allowed = false
        r.windowDenied = true
        if retry > r.retry then r.retry = retry end
      end
      w.bucket = bucket
      w.cur = cur
      w.prev = prev
      w.remaining = remaining
      w.reset = reset
      local ttl = (bucket + 2) * T - now
      if w.aligned then ttl = (bucket + 1) * T - now end
      w.ttl = ttl
    end
  end
  if r.cc > 0 then
    redis.call('ZREMRANGEBYSCORE', r.ckey, '-inf', now)
    local held = redis.call('ZCARD', r.ckey)
    if held >= r.cc then
      r.ccDenied = true
      r.ccRemaining = 0
      r.allowed = false
      if r.retry < 1000 then r.retry = 1000 end
    else
      r.ccRemaining = r.cc - held - 1
      if peek then r.ccRemaining = r.cc - held end
    end
  end
  if not r.allowed and not r.shadow and deciding == 0 then deciding = i end
  rules[i] = r
end

local function consume(r, lease)
  if r.nw > 0 then
    local args = {}
    local ttl = 0
    for j = 1, r.nw do
      local w = r.windows[j]
      args[#args + 1] = w.f .. ':b'
      args[#args + 1] = w.bucket
      args[#args + 1] = w.f .. ':c'
      args[#args + 1] = w.cur + r.cost
      args[#args + 1] = w.f .. ':p'
      args[#args + 1] = w.prev
      if w.ttl > ttl then ttl = w.ttl end
    end
    redis.call('HSET', r.hkey, unpack(args))
    redis.call('PEXPIRE', r.hkey, math.ceil(ttl) + 1000)
  end
  if lease and r.cc > 0 then
    redis.call('ZADD', r.ckey, now + leaseMs, leaseId)
    redis.call('PEXPIRE', r.ckey, leaseMs + 1000)
  end
end

if not peek then
  for i = 1, n do
    local r = rules[i]
    if deciding == 0 then
      if r.allowed then consume(r, true) end
    elseif r.countLimited then
      consume(r, false)
    end
  end
end

local out = { deciding == 0 and 1 or 0, deciding, now }
for i = 1, n do
  local r = rules[i]
  out[#out + 1] = r.allowed and 1 or 0
  out[#out + 1] = r.windowDenied and 1 or 0
  out[#out + 1] = r.ccDenied and 1 or 0
  out[#out + 1] = r.ccRemaining
  out[#out + 1] = r.retry
  out[#out + 1] = r.nw
  for j = 1, r.nw do
    out[#out + 1] = r.windows[j].remaining
    out[#out + 1] = r.windows[j].reset
  end
end
return out
`;
