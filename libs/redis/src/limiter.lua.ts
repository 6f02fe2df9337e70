/**
 * The limiter's one round trip (docs/limiter.md). Evaluates every rule of a request atomically and writes only when
 * every enforcing rule admits it: a denied request (429) consumes nothing, except from rules that count limited
 * requests. The clock is Redis's own TIME, so edges with skewed clocks still agree. Mirrors
 * libs/domain/src/limiter/window-math.ts.
 *
 * One call decides a batch of requests, in order, each exactly as if it had its own call: a request sees what the
 * requests before it in the batch wrote, and is all-or-nothing on its own. The edge batches the decisions of one
 * event-loop turn (LimiterScriptRepository): each request still has one round trip, and Redis pays its per-command
 * and per-script costs once per batch instead of once per request.
 *
 * KEYS: first, per request in batch order, per rule: the rule's window state, one string of little-endian doubles,
 *   (bucket index, current count, previous count) per window in the rule's order. The key names the rule's windows
 *   (lengths, alignment), so a value always has the layout the rule expects; a value of any other size is read as
 *   empty. Then, per request in batch order, one sorted set of concurrency leases per rule that has a concurrency
 *   limit, in rule order.
 * ARGV[1]: the batch as little-endian doubles, ARGV[2] its struct format ('<' and one 'd' per number): the request
 *   count, the count of window-state keys, then per request: peek (1: cost 0, no writes), now ms (0: Redis TIME), lease ms, rule count n, then per
 *   rule its cost and flags + 4 × window count + 64 × concurrency limit (flags: 1 shadow, 2 counts limited requests;
 *   concurrency 0: none), then per window its limit and 2 × seconds + aligned (0/1).
 * ARGV[2 + r]: the lease id of request r.
 * Reply, per request in batch order: allowed, deciding rule (1-based, 0 none), now ms, then per rule: 1 if it admits
 *   the request + 2 if its concurrency limit denied it + 4 × (concurrency remaining + 1) (0: no limit), then per
 *   rule the stored state the request was judged on, as stored (false: none). The edge rolls that state forward to
 *   now and derives the windows' verdicts, remaining, reset and Retry-After with window-math.ts: the same estimate
 *   in the same floating-point order, so the figures agree with the decision.
 *
 * Written for Redis's Lua 5.1, where a script this size costs what it allocates and converts, not what it computes:
 * the requests and the state are binary (struct, no string parsing or number formatting), the state of every rule of
 * the batch is read with one MGET, the working tables are made once per batch, and an unchanged expiry is kept
 * (KEEPTTL) rather than formatted and set.
 */
export const LIMITER_LUA = `
local S = { struct.unpack(ARGV[2], ARGV[1]) }
local floor = math.floor
-- Formats of a rule's state by window count: constants, as every string a script builds is hashed and interned.
local FMT = { '<ddd', '<dddddd', '<ddddddddd', '<dddddddddddd' }
local out = {}
local A = {} -- per rule: the state to store if the request is admitted (rules that count limited requests: always)
local E = {} -- per rule: the new absolute expiry when a bucket moved, else 0 (the expiry stays)
local L = {} -- per rule with a concurrency limit: the index of its lease key
local C = {} -- per rule that counts limited requests: true
local W = {} -- the new state of the current rule, reused
local clock = nil -- Redis TIME in ms, read once per batch
-- Every window state of the batch in one read; a state an earlier request of the batch wrote is read from written.
local V = redis.call('MGET', unpack(KEYS, 1, S[2]))
local written = {}
local o = 0 -- requests' replies so far in out
local k = 0 -- window keys of earlier requests
local lk = S[2] -- lease keys of earlier requests
local p = 3

for r = 1, S[1] do
  local peek = S[p] == 1
  local now = S[p + 1]
  if now == 0 then
    if clock == nil then
      local t = redis.call('TIME')
      clock = t[1] * 1000 + floor(t[2] / 1000)
    end
    now = clock
  end
  local leaseMs = S[p + 2]
  local n = S[p + 3]
  p = p + 4
  out[o + 3] = now
  local deciding = 0
  local counting = false

  for i = 1, n do
    local cost, meta = S[p], S[p + 1]
    p = p + 2
    if peek then cost = 0 end
    local flags = meta % 4
    local nw = floor(meta / 4) % 16
    local cc = floor(meta / 64)
    local allowed, moved, expireAt = true, false, 0
    local blob = written[KEYS[k + i]]
    if blob == nil then blob = V[k + i] end
    local st = blob and nw > 0 and #blob == 24 * nw
    out[o + 3 + n + i] = blob
    for j = 1, nw do
      local limit, code = S[p], S[p + 1]
      p = p + 2
      local aligned = code % 2 == 1
      local T = (code - code % 2) * 500
      local bucket = floor(now / T)
      local cur, prev = 0, 0
      local q = 3 * j - 2
      if st then
        local sb, sc, sp = struct.unpack('<ddd', blob, 8 * q - 7)
        if sb >= bucket then
          bucket, cur, prev = sb, sc, sp
        else
          if sb == bucket - 1 then prev = sc end
          moved = true
        end
      else
        moved = true
      end
      local elapsed = now - bucket * T
      if elapsed < 0 then elapsed = 0 elseif elapsed > T then elapsed = T end
      local used = cur
      if not aligned then used = prev * (T - elapsed) / T + cur end
      if used + cost > limit then allowed = false end
      W[q], W[q + 1], W[q + 2] = bucket, cur + cost, prev
      local e = (bucket + 2) * T
      if aligned then e = (bucket + 1) * T end
      if e > expireAt then expireAt = e end
    end
    local f = 0
    L[i] = nil
    if cc > 0 then
      lk = lk + 1
      L[i] = lk
      redis.call('ZREMRANGEBYSCORE', KEYS[lk], '-inf', now)
      local held = redis.call('ZCARD', KEYS[lk])
      if held >= cc then
        allowed = false
        f = 2 + 4
      elseif peek then
        f = 4 * (cc - held + 1)
      else
        f = 4 * (cc - held)
      end
    end
    if allowed then f = f + 1 end
    out[o + 3 + i] = f
    A[i] = nil
    if nw > 0 and not peek and (allowed or flags >= 2) then
      A[i] = struct.pack(FMT[nw] or ('<' .. string.rep('d', 3 * nw)), unpack(W, 1, 3 * nw))
      E[i] = moved and expireAt or 0
    end
    C[i] = flags >= 2
    if C[i] then counting = true end
    if not allowed and flags % 2 == 0 and deciding == 0 then deciding = i end
  end

  if not peek and (deciding == 0 or counting) then
    for i = 1, n do
      -- Admitted: every rule that admits it (a shadow rule that said no keeps its count). Denied: only the rules
      -- that count limited requests.
      local admits = out[o + 3 + i] % 2 == 1
      if A[i] and ((deciding == 0 and admits) or (deciding ~= 0 and C[i])) then
        -- The expiry is absolute (the end of the last bucket that still matters), so it only moves with a bucket.
        if E[i] > 0 then
          redis.call('SET', KEYS[k + i], A[i], 'PXAT', E[i] + 1000)
        else
          redis.call('SET', KEYS[k + i], A[i], 'KEEPTTL')
        end
        written[KEYS[k + i]] = A[i]
      end
      if deciding == 0 and admits and L[i] then
        redis.call('ZADD', KEYS[L[i]], now + leaseMs, ARGV[2 + r])
        redis.call('PEXPIRE', KEYS[L[i]], leaseMs + 1000)
      end
    end
  end

  out[o + 1] = deciding == 0 and 1 or 0
  out[o + 2] = deciding
  o = o + 3 + 2 * n
  k = k + n
end

return out
`;
