/**
 * The limiter's one round trip (docs/limiter.md). Evaluates every rule of a request atomically and writes only when
 * every enforcing rule admits it: a denied request (429) consumes nothing, except from rules that count limited
 * requests. The clock is Redis's own TIME, so edges with skewed clocks still agree. Mirrors
 * libs/domain/src/limiter/window-math.ts.
 *
 * KEYS: per rule i, KEYS[2i-1] = hash of window counters, KEYS[2i] = sorted set of concurrency leases.
 *   Window fields `<seconds><a|s>:b|c|p` = bucket index, current count, previous count.
 * ARGV: mode ('c' check, 'p' peek: cost 0, no writes), now ms (0: Redis TIME), lease id, lease ms, rule count, and
 *   the rules as one space-separated string: per rule cost, shadow, countLimited, concurrency (0: none), window
 *   count, then per window limit, seconds, aligned (0/1).
 * Reply: allowed, deciding rule (1-based, 0 none), now ms, then per rule: allowed, window denied, concurrency denied,
 *   concurrency remaining (-1: none), window count, then per window the state the request was judged on (bucket,
 *   current, previous). Remaining, reset and Retry-After are derived from that state by window-math.ts on the edge:
 *   the script computes only what the decision needs, with the same estimate, in the same floating-point order.
 *
 * Written for speed in Redis's Lua 5.1: flat arrays indexed by window number instead of a table per window (no
 * rehashing), no string building, no closures, and writes limited to the fields that changed.
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
local floor = math.floor
-- The rules arrive as one string of numbers: one argument instead of dozens, which the client pays for per argument.
local S, c = {}, 0
for tok in string.gmatch(ARGV[6], '%S+') do
  c = c + 1
  S[c] = tok
end
local p = 1
local deciding = 0
-- Few tables: each one costs an allocation and rehashes as it grows, which dominates a script this size.
local out = { 0, 0, now }
local R = {} -- per rule, stride 5: allowed, countLimited, concurrency, moved, expireAt
local A = {} -- per rule: HSET arguments of an admitted request
local fields = {}

for i = 1, n do
  local cost = tonumber(S[p])
  if peek then cost = 0 end
  local shadow = S[p + 1] == '1'
  local countLimited = S[p + 2] == '1'
  local cc = tonumber(S[p + 3])
  local nw = tonumber(S[p + 4])
  p = p + 5
  local base = #out
  out[base + 1], out[base + 2], out[base + 3], out[base + 4], out[base + 5] = 0, 0, 0, -1, nw
  local allowed, wDenied, moved, expireAt = true, false, false, 0
  local args, a = {}, 0
  if nw > 0 then
    for j = 1, nw do
      local q = p + (j - 1) * 3
      local f = S[q + 1] .. (S[q + 2] == '1' and 'a:' or 's:')
      fields[3 * j - 2], fields[3 * j - 1], fields[3 * j] = f .. 'b', f .. 'c', f .. 'p'
    end
    local vals = redis.call('HMGET', KEYS[2 * i - 1], unpack(fields, 1, 3 * nw))
    for j = 1, nw do
      local limit, T, aligned = tonumber(S[p]), tonumber(S[p + 1]) * 1000, S[p + 2] == '1'
      local fb, fc, fp = fields[3 * j - 2], fields[3 * j - 1], fields[3 * j]
      p = p + 3
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
      if used + cost > limit then
        allowed = false
        wDenied = true
      end
      local o = #out
      out[o + 1], out[o + 2], out[o + 3] = bucket, cur, prev
      -- Only what changes is written: within a bucket, the count alone (number-to-string conversion is dear).
      args[a + 1], args[a + 2] = fc, cur + cost
      a = a + 2
      if sb ~= bucket then
        args[a + 1], args[a + 2], args[a + 3], args[a + 4] = fb, bucket, fp, prev
        a = a + 4
        moved = true
      end
      local e = (bucket + 2) * T
      if aligned then e = (bucket + 1) * T end
      if e > expireAt then expireAt = e end
    end
  end
  local cDenied = false
  if cc > 0 then
    local lk = KEYS[2 * i]
    redis.call('ZREMRANGEBYSCORE', lk, '-inf', now)
    local held = redis.call('ZCARD', lk)
    if held >= cc then
      cDenied, allowed = true, false
      out[base + 4] = 0
    elseif peek then
      out[base + 4] = cc - held
    else
      out[base + 4] = cc - held - 1
    end
  end
  out[base + 1] = allowed and 1 or 0
  out[base + 2] = wDenied and 1 or 0
  out[base + 3] = cDenied and 1 or 0
  local r = 5 * (i - 1)
  R[r + 1], R[r + 2], R[r + 3], R[r + 4], R[r + 5] = allowed, countLimited, cc, moved, expireAt
  A[i] = args
  if not allowed and not shadow and deciding == 0 then deciding = i end
end

if not peek then
  for i = 1, n do
    local r = 5 * (i - 1)
    if (deciding == 0 and R[r + 1]) or (deciding ~= 0 and R[r + 2]) then
      local args = A[i]
      if #args > 0 then
        redis.call('HSET', KEYS[2 * i - 1], unpack(args))
        -- The expiry is absolute (the end of the last bucket that still matters), so it only moves with a bucket.
        if R[r + 4] then redis.call('PEXPIREAT', KEYS[2 * i - 1], R[r + 5] + 1000) end
      end
      if deciding == 0 and R[r + 3] > 0 then
        redis.call('ZADD', KEYS[2 * i], now + leaseMs, leaseId)
        redis.call('PEXPIRE', KEYS[2 * i], leaseMs + 1000)
      end
    end
  end
end

out[1] = deciding == 0 and 1 or 0
out[2] = deciding
return out
`;
