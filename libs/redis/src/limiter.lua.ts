/**
 * The limiter's one round trip (docs/limiter.md). Evaluates every rule of a request atomically and writes only when
 * every enforcing rule admits it: a denied request (429) consumes nothing, except from rules that count limited
 * requests. The clock is Redis's own TIME, so edges with skewed clocks still agree. Mirrors
 * libs/domain/src/limiter/window-math.ts.
 *
 * KEYS: per rule i, KEYS[2i-1] = hash of window counters, KEYS[2i] = sorted set of concurrency leases.
 *   Window fields `<seconds><a|s>:b|c|p` = bucket index, current count, previous count (names sent by the caller, so
 *   the script builds no strings).
 * ARGV: mode ('c' check, 'p' peek: cost 0, no writes), now ms (0: Redis TIME), lease id, lease ms, rule count,
 *   then per rule: cost, shadow, countLimited, concurrency (0: none), window count, then per window: limit, seconds,
 *   aligned, and the three field names.
 * Reply: allowed, deciding rule (1-based, 0 none), now ms, then per rule: allowed, window denied, concurrency denied,
 *   concurrency remaining (-1: none), retry ms, window count, then per window: remaining, reset at ms.
 *
 * Written for speed in Redis's Lua 5.1: flat arrays indexed by window number instead of a table per window (no
 * rehashing), no string building, no closures.
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
local floor, ceil = math.floor, math.ceil
local p = 6
local deciding = 0
-- per rule
local rCost, rShadow, rCount, rCc, rNw, rFirst = {}, {}, {}, {}, {}, {}
local rAllowed, rWDenied, rCDenied, rCRem, rRetry = {}, {}, {}, {}, {}
-- per window (global index k)
local wFb, wFc, wFp, wBucket, wCur, wPrev, wRem, wReset, wMoved, wExp = {}, {}, {}, {}, {}, {}, {}, {}, {}, {}
local k = 0

for i = 1, n do
  local cost = tonumber(ARGV[p])
  if peek then cost = 0 end
  local nw = tonumber(ARGV[p + 4])
  local cc = tonumber(ARGV[p + 3])
  rCost[i] = cost
  rShadow[i] = ARGV[p + 1] == '1'
  rCount[i] = ARGV[p + 2] == '1'
  rCc[i] = cc
  rNw[i] = nw
  rFirst[i] = k + 1
  p = p + 5
  local allowed, wDenied, retry = true, false, 0
  if nw > 0 then
    local fields = {}
    for j = 1, nw do
      local q = p + (j - 1) * 6
      fields[3 * j - 2] = ARGV[q + 3]
      fields[3 * j - 1] = ARGV[q + 4]
      fields[3 * j] = ARGV[q + 5]
    end
    local vals = redis.call('HMGET', KEYS[2 * i - 1], unpack(fields))
    for j = 1, nw do
      k = k + 1
      local limit, T, aligned = tonumber(ARGV[p]), tonumber(ARGV[p + 1]) * 1000, ARGV[p + 2] == '1'
      wFb[k], wFc[k], wFp[k] = ARGV[p + 3], ARGV[p + 4], ARGV[p + 5]
      p = p + 6
      local bucket = floor(now / T)
      local sb = tonumber(vals[3 * j - 2])
      local cur, prev = 0, 0
      if sb ~= nil then
        if sb >= bucket then
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
      if not aligned then used = prev * (T - elapsed) / T + cur end
      local ok = used + cost <= limit
      local after, newCur = used, cur
      if ok then
        after = used + cost
        newCur = cur + cost
      end
      local remaining = floor(limit - after + 1e-9)
      if remaining < 0 then remaining = 0 end
      local reset = now
      if aligned then reset = (bucket + 1) * T
      elseif newCur > 0 then reset = (bucket + 2) * T
      elseif prev > 0 then reset = (bucket + 1) * T end
      if not ok then
        local wait
        if cost > limit then wait = T
        elseif aligned then wait = T - elapsed
        elseif cur + cost <= limit then
          wait = ceil(T - elapsed - (limit - cur - cost) * T / prev)
        else
          local into = 0
          if cur > 0 then into = T - (limit - cost) * T / cur end
          if into < 0 then into = 0 end
          wait = ceil(T - elapsed + into)
        end
        if wait < 1 then wait = 1 end
        allowed = false
        wDenied = true
        if wait > retry then retry = wait end
      end
      wBucket[k], wCur[k], wPrev[k], wRem[k], wReset[k] = bucket, cur, prev, remaining, reset
      wMoved[k] = sb ~= bucket
      if aligned then wExp[k] = (bucket + 1) * T else wExp[k] = (bucket + 2) * T end
    end
  end
  local cDenied, cRem = false, -1
  if cc > 0 then
    local lk = KEYS[2 * i]
    redis.call('ZREMRANGEBYSCORE', lk, '-inf', now)
    local held = redis.call('ZCARD', lk)
    if held >= cc then
      cDenied, cRem, allowed = true, 0, false
      if retry < 1000 then retry = 1000 end
    elseif peek then
      cRem = cc - held
    else
      cRem = cc - held - 1
    end
  end
  rAllowed[i], rWDenied[i], rCDenied[i], rCRem[i], rRetry[i] = allowed, wDenied, cDenied, cRem, retry
  if not allowed and not rShadow[i] and deciding == 0 then deciding = i end
end

if not peek then
  for i = 1, n do
    local consume = (deciding == 0 and rAllowed[i]) or (deciding ~= 0 and rCount[i])
    if consume then
      local nw = rNw[i]
      if nw > 0 then
        local args, expireAt, moved, cost, first = {}, 0, false, rCost[i], rFirst[i]
        for j = 0, nw - 1 do
          local w = first + j
          args[6 * j + 1], args[6 * j + 2] = wFb[w], wBucket[w]
          args[6 * j + 3], args[6 * j + 4] = wFc[w], wCur[w] + cost
          args[6 * j + 5], args[6 * j + 6] = wFp[w], wPrev[w]
          if wExp[w] > expireAt then expireAt = wExp[w] end
          if wMoved[w] then moved = true end
        end
        redis.call('HSET', KEYS[2 * i - 1], unpack(args))
        -- The expiry is absolute (the end of the last bucket that still matters), so it only moves with a bucket.
        if moved then redis.call('PEXPIREAT', KEYS[2 * i - 1], expireAt + 1000) end
      end
      if deciding == 0 and rCc[i] > 0 then
        redis.call('ZADD', KEYS[2 * i], now + leaseMs, leaseId)
        redis.call('PEXPIRE', KEYS[2 * i], leaseMs + 1000)
      end
    end
  end
end

local out = { deciding == 0 and 1 or 0, deciding, now }
local o = 3
for i = 1, n do
  out[o + 1] = rAllowed[i] and 1 or 0
  out[o + 2] = rWDenied[i] and 1 or 0
  out[o + 3] = rCDenied[i] and 1 or 0
  out[o + 4] = rCRem[i]
  out[o + 5] = rRetry[i]
  out[o + 6] = rNw[i]
  o = o + 6
  for w = rFirst[i], rFirst[i] + rNw[i] - 1 do
    out[o + 1] = wRem[w]
    out[o + 2] = wReset[w]
    o = o + 2
  end
end
return out
`;
