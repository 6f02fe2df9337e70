import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicableRules, compilePolicy, evaluateWindow, type RawPlan, type WindowState } from '@usageguard/domain';
import { limiterKeys, LimiterScriptRepository, RedisRepository, type ScriptRule } from '@usageguard/redis';
import { createTestEnvironment, type TestEnvironment, uniqueId } from '@usageguard/testing';

// Midnight UTC two days ahead: a minute, hour and day boundary, and in the future, because keys expire at absolute
// times (PEXPIREAT) computed from the clock the script is given.
const T0 = (Math.floor(Date.now() / 86_400_000) + 2) * 86_400_000;

describe('limiter Lua script (real Redis)', () => {
  let env: TestEnvironment;
  let redis: RedisRepository;
  let script: LimiterScriptRepository;

  beforeAll(async () => {
    env = await createTestEnvironment();
    redis = new RedisRepository(env.config);
    script = new LimiterScriptRepository(redis, { ...env.config, edge: { ...env.config.edge, redisTimeoutMs: 2000 } });
    await script.onModuleInit();
  });

  afterAll(async () => {
    const keys = await redis.client.keys(`${redis.prefix}*`);
    if (keys.length > 0) await redis.client.del(...keys);
    await redis?.onModuleDestroy();
    await env?.cleanup();
  });

  const rule = (name: string, windows: ScriptRule['windows'], extra: Partial<ScriptRule> = {}): ScriptRule => {
    const account = `acct-${uniqueId()}`;
    return {
      key: limiterKeys.windows(redis.prefix, account, name, 's', windows),
      leaseKey: limiterKeys.leases(redis.prefix, account, name, 's'),
      cost: 1,
      shadow: false,
      countLimited: false,
      concurrency: 0,
      windows,
      ...extra,
    };
  };
  const check = (rules: ScriptRule[], nowMs: number, leaseId = 'l') =>
    script.evaluate({ mode: 'check', nowMs, leaseId, leaseMs: 60_000, rules });

  it('matches the TypeScript window maths request by request (sliding and aligned, random times and costs)', async () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const windows = [
      { limit: 20, seconds: 10, aligned: false },
      { limit: 50, seconds: 60, aligned: true },
    ];
    const r = rule('parity', windows);
    const state: (WindowState | undefined)[] = [undefined, undefined];
    let t = T0 + 123;
    for (let i = 0; i < 400; i++) {
      t += Math.floor(rnd() * 700);
      const cost = 1 + Math.floor(rnd() * 3);
      const verdicts = windows.map((w, j) => evaluateWindow(w, state[j], t, cost));
      const expected = verdicts.every((v) => v.allowed);
      const got = await check([{ ...r, cost }], t);
      expect(got.allowed).toBe(expected);
      got.rules[0].windows.forEach((w, j) => {
        expect(w.remaining).toBe(verdicts[j].remaining);
        expect(w.resetAtMs).toBe(verdicts[j].resetAtMs);
      });
      if (!expected) expect(got.rules[0].retryAfterMs).toBe(Math.max(...verdicts.map((v) => v.retryAfterMs)));
      if (expected) verdicts.forEach((v, j) => (state[j] = v.next));
    }
  });

  it('is all-or-nothing: a request one rule denies consumes nothing from the others, and names that rule', async () => {
    const wide = rule('wide', [{ limit: 100, seconds: 60, aligned: false }]);
    const narrow = rule('narrow', [{ limit: 2, seconds: 60, aligned: false }]);
    for (let i = 0; i < 2; i++) expect((await check([wide, narrow], T0 + 1000)).allowed).toBe(true);
    for (let i = 0; i < 5; i++) {
      const denied = await check([wide, narrow], T0 + 1000);
      expect(denied).toMatchObject({ allowed: false, deciding: 1 });
      expect(denied.rules[1].retryAfterMs).toBeGreaterThan(0);
    }
    const peek = await script.evaluate({ mode: 'peek', nowMs: T0 + 1000, leaseId: 'p', leaseMs: 1, rules: [wide] });
    expect(peek.rules[0].windows[0].remaining).toBe(98); // only the two admitted requests counted
    // Keys expire when their last relevant bucket ends (+1 s), never live on.
    const bucket = Math.floor((T0 + 1000) / 60_000);
    expect(await redis.client.call('PEXPIRETIME', wide.key)).toBe((bucket + 2) * 60_000 + 1000);
  });

  it('peek consumes nothing', async () => {
    const r = rule('peek', [{ limit: 5, seconds: 3600, aligned: true }]);
    for (let i = 0; i < 10; i++) {
      await script.evaluate({ mode: 'peek', nowMs: T0, leaseId: 'p', leaseMs: 1, rules: [r] });
    }
    const first = await check([r], T0);
    expect(first.rules[0].windows[0]).toEqual({ remaining: 4, resetAtMs: T0 + 3_600_000 });
  });

  it('shadow rules report a denial without blocking or deciding', async () => {
    const shadow = rule('shadow', [{ limit: 1, seconds: 60, aligned: false }], { shadow: true });
    expect((await check([shadow], T0)).allowed).toBe(true);
    const second = await check([shadow], T0);
    expect(second).toMatchObject({ allowed: true, deciding: -1 });
    expect(second.rules[0].allowed).toBe(false);
  });

  it('rules that count limited requests are charged even when the request is denied', async () => {
    const counting = rule('counting', [{ limit: 100, seconds: 60, aligned: false }], { countLimited: true });
    const blocker = rule('blocker', [{ limit: 0, seconds: 60, aligned: false }]);
    await check([counting, blocker], T0);
    await check([counting, blocker], T0);
    const peek = await script.evaluate({ mode: 'peek', nowMs: T0, leaseId: 'p', leaseMs: 1, rules: [counting] });
    expect(peek.rules[0].windows[0].remaining).toBe(98);
  });

  it('concurrency leases: held until released, then free again; expired leases free themselves', async () => {
    const cc = rule('cc', [], { concurrency: 2 });
    expect((await check([cc], T0, 'a')).allowed).toBe(true);
    expect((await check([cc], T0, 'b')).rules[0].concurrencyRemaining).toBe(0);
    const third = await check([cc], T0, 'c');
    expect(third).toMatchObject({ allowed: false, deciding: 0 });
    expect(third.rules[0]).toMatchObject({ concurrencyDenied: true, windowDenied: false });
    await script.release([cc.leaseKey], 'a');
    expect((await check([cc], T0, 'd')).allowed).toBe(true);
    expect((await check([cc], T0 + 60_001, 'e')).allowed).toBe(true); // a, b, d expired
  });

  it('stores counts, not limits: lowering a limit applies at once without touching the stored state', async () => {
    const r = rule('change', [{ limit: 10, seconds: 60, aligned: false }]);
    for (let i = 0; i < 6; i++) await check([r], T0 + 5000);
    const lowered = await check([{ ...r, windows: [{ limit: 5, seconds: 60, aligned: false }] }], T0 + 5000);
    expect(lowered.allowed).toBe(false);
    const raised = await check([{ ...r, windows: [{ limit: 20, seconds: 60, aligned: false }] }], T0 + 5000);
    expect(raised.rules[0].windows[0].remaining).toBe(13);
  });

  it('never reads state laid out for other windows: a changed window set starts afresh under its own key', async () => {
    const before = [{ limit: 10, seconds: 60, aligned: false }];
    const after = [
      { limit: 10, seconds: 60, aligned: false },
      { limit: 100, seconds: 3600, aligned: true },
    ];
    expect(limiterKeys.windows('', 'a', 'r', 's', before)).not.toBe(limiterKeys.windows('', 'a', 'r', 's', after));
    const r = rule('layout', before);
    for (let i = 0; i < 4; i++) await check([r], T0 + 1000);
    // The same key with a value of another size (a stale key, a hand edit) reads as empty rather than misread.
    const reshaped = await check([{ ...r, windows: after }], T0 + 1000);
    expect(reshaped.rules[0].windows.map((w) => w.remaining)).toEqual([9, 99]);
    const again = await check([{ ...r, windows: after }], T0 + 1000);
    expect(again.rules[0].windows.map((w) => w.remaining)).toEqual([8, 98]);
  });

  it('runs a real plan compiled from configuration', async () => {
    const raw: RawPlan = {
      id: 'p',
      key: 'p',
      name: 'p',
      apiAccess: true,
      errorStyle: 'NESTJS',
      limitStatusCode: 429,
      priorPerMinute: 1,
      version: 1,
      rules: [{ name: 'tok', scope: 'TOKEN', windows: [{ limit: 3, seconds: 60 }] }],
    };
    const [applicable] = applicableRules(compilePolicy(raw), {
      accountId: `a-${uniqueId()}`,
      tokenId: 't',
      clientIp: '1.2.3.4',
      method: 'GET',
      route: '/',
    });
    const r = {
      ...rule('x', applicable.windows),
      key: limiterKeys.windows(redis.prefix, 'z', 'tok', applicable.subject, applicable.windows),
    };
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push((await check([r], 0)).allowed); // Redis's own clock
    expect(outcomes).toEqual([true, true, true, false, false]);
  });
  it('decides the requests of one event-loop turn together, in order, each all-or-nothing on its own', async () => {
    // 40 requests asked at once: more than one script call's batch, so they leave as several batches. Each shares
    // the limit-7 rule and has a rule of its own; every fourth also asks for a lease of a 3-lease concurrency rule.
    const shared = rule('shared', [{ limit: 7, seconds: 60, aligned: false }]);
    const own = Array.from({ length: 40 }, (_, i) => rule(`own-${i}`, [{ limit: 100, seconds: 60, aligned: false }]));
    const leases = rule('leases', [], { concurrency: 3 });
    const results = await Promise.all(
      own.map((mine, i) => check(i % 4 === 0 ? [shared, mine, leases] : [shared, mine], T0 + 5_000, `lease-${i}`)),
    );
    const admitted = results.map((r) => r.allowed);
    // In the order asked, whichever batch they left in: the first seven pass and the shared rule denies the rest.
    expect(admitted).toEqual(own.map((_, i) => i < 7));
    expect(results.slice(0, 7).map((r) => r.rules[0].windows[0].remaining)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(results.slice(7).every((r) => r.deciding === 0)).toBe(true);
    // All-or-nothing per request: a denied request consumed nothing from its own rule.
    for (const [i, mine] of own.entries()) {
      const peek = await script.evaluate({ mode: 'peek', nowMs: T0 + 5_000, leaseId: 'p', leaseMs: 1, rules: [mine] });
      expect(peek.rules[0].windows[0].remaining).toBe(i < 7 ? 99 : 100);
    }
    // The admitted lease takers (requests 0 and 4) hold two of the three leases.
    const held = await script.evaluate({ mode: 'peek', nowMs: T0 + 5_000, leaseId: 'p', leaseMs: 1, rules: [leases] });
    expect(held.rules[0].concurrencyRemaining).toBe(1);
  });
});
