import { loadConfig } from '@usageguard/config';
import { applicableRules, compilePolicy, type RawPlan } from '@usageguard/domain';
import { MetricsService } from '@usageguard/observability';
import { LimiterScriptRepository, RedisRepository } from '@usageguard/redis';
import { uniqueId } from '@usageguard/testing';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { LimiterService } from '../apps/edge/src/limiter/limiter.service';

/**
 * `npm run bench -- limiter [--seconds N] [--concurrency N]`: decisions per second of the edge's limiter for the
 * issue's policy (token 60/min + 1000/h, account 5000/h + 50000/day, IP 100/min + 2000/h: 3 dimensions × 2
 * windows), against rate-limiter-flexible doing the same six checks (one RateLimiterRedis per window) and the raw
 * EVALSHA rate of a trivial script (the ceiling of any one-round-trip limiter), on the same Redis in the same run.
 */
const POLICY: RawPlan = {
  id: 'bench-plan',
  key: 'bench',
  name: 'bench',
  apiAccess: true,
  errorStyle: 'NESTJS',
  limitStatusCode: 429,
  priorPerMinute: 10,
  version: 1,
  rules: [
    {
      name: 'token',
      scope: 'TOKEN',
      windows: [
        { limit: 60, seconds: 60 },
        { limit: 1000, seconds: 3600 },
      ],
    },
    {
      name: 'account',
      scope: 'ACCOUNT',
      windows: [
        { limit: 5000, seconds: 3600 },
        { limit: 50000, seconds: 86400 },
      ],
    },
    {
      name: 'ip',
      scope: 'IP',
      windows: [
        { limit: 100, seconds: 60 },
        { limit: 2000, seconds: 3600 },
      ],
    },
  ],
};

interface Subject {
  account: string;
  token: string;
  ip: string;
}

function subjects(n: number): Subject[] {
  return Array.from({ length: n }, (_, i) => ({
    account: `acct-${i % Math.ceil(n / 4)}`,
    token: `tok-${i}`,
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  }));
}

interface Sample {
  latencies: number[];
  elapsedMs: number;
}

/** Runs `op` from `concurrency` loops for `ms`; per-call latency in ms of the calls that did not answer `false`. */
async function sample(ms: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Sample> {
  let i = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        if ((await op(i++)) !== false) latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, elapsedMs: performance.now() - started };
}

function summarise(samples: Sample[]) {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const elapsed = samples.reduce((sum, s) => sum + s.elapsedMs, 0) / 1000;
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { perSecond: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99) };
}

const ROUNDS = 5;
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const seconds = arg('seconds', 10);
  const concurrency = arg('concurrency', 16);
  const base = loadConfig();
  const prefix = `bench:${uniqueId()}:`;
  const config = { ...base, redis: { ...base.redis, prefix }, edge: { ...base.edge, redisTimeoutMs: 1000 } };
  const redis = new RedisRepository(config);
  const script = new LimiterScriptRepository(redis, config);
  await script.onModuleInit();
  const limiter = new LimiterService(script, config, new MetricsService());
  const policy = compilePolicy(POLICY);
  // Enough subjects that none reaches a limit during the run (token 60/min at up to ~100k decisions/s): a denied key
  // is answered from the limiter's memory, not Redis, and would not measure the round trip.
  const pool = subjects(Math.max(20_000, 2_000 * (seconds + 2)));

  try {
    console.error(
      `[limiter] ${seconds}s per contender in ${ROUNDS} interleaved rounds, ${concurrency} concurrent calls, ` +
        `Redis ${config.redis.url}`,
    );
    // Decisions that did not come from Redis (a key remembered as over its limit, the circuit open after a timeout)
    // are counted apart and left out of our rate. They also distort the run: answered without I/O, they let the
    // callers' loops spin on resolved promises and starve the event loop, so replies already in the socket are read
    // only after their 1 s timeout fired and the circuit opens (seen in a 20 s run with 20,000 subjects).
    const elsewhere = new Map<string, number>();
    const ours = async (i: number) => {
      const s = pool[i % pool.length];
      const rules = applicableRules(policy, {
        accountId: s.account,
        tokenId: s.token,
        clientIp: s.ip,
        method: 'GET',
        route: '/v1/items',
      });
      const decision = await limiter.check(s.account, rules, randomUUID());
      if (decision.source !== 'redis') {
        elsewhere.set(decision.source, (elsewhere.get(decision.source) ?? 0) + 1);
        return false;
      }
      return true;
    };

    const rlfClient = new Redis(config.redis.url, { enableOfflineQueue: true });
    const rlf = POLICY.rules.flatMap((rule) =>
      (rule.windows as { limit: number; seconds: number }[]).map(
        (w) =>
          new RateLimiterRedis({
            storeClient: rlfClient,
            keyPrefix: `${prefix}rlf:${rule.name}:${w.seconds}`,
            points: w.limit,
            duration: w.seconds,
          }),
      ),
    );
    const theirs = async (i: number) => {
      const s = pool[i % pool.length];
      const keys = [s.token, s.token, s.account, s.account, s.ip, s.ip];
      // Six checks, as the policy needs; each limiter is its own round trip and a rejection does not undo the others.
      await Promise.all(rlf.map((l, j) => l.consume(keys[j]).catch((r: RateLimiterRes | Error) => r)));
    };

    const rawClient = new Redis(config.redis.url);
    const sha = (await rawClient.script('LOAD', 'return 1')) as string;
    const raw = (i: number) => rawClient.evalsha(sha, 1, `${prefix}ceiling:${i % 64}`);

    // Warm-up (JIT, connections, scripts), then rounds that alternate the contenders, so a change of load on a
    // shared machine affects all three alike.
    for (const op of [ours, theirs, raw]) await sample(Math.min(2000, seconds * 300), concurrency, op);
    const samples: Sample[][] = [[], [], []];
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, op] of [ours, theirs, raw].entries()) {
        samples[k].push(await sample((seconds * 1000) / ROUNDS, concurrency, op));
      }
    }
    const [mine, rlfRun, ceiling] = samples.map(summarise);
    console.error(
      `[limiter] ours: ${Math.round(mine.perSecond)}/s p50 ${round(mine.p50)} ms p99 ${round(mine.p99)} ms`,
    );
    console.error(`[limiter] rate-limiter-flexible: ${Math.round(rlfRun.perSecond)}/s p99 ${round(rlfRun.p99)} ms`);
    console.error(`[limiter] EVALSHA ceiling: ${Math.round(ceiling.perSecond)}/s`);
    const notRedis = [...elsewhere.values()].reduce((a, b) => a + b, 0);
    if (notRedis > 0) {
      console.error(
        `[limiter] left out of our rate, decided without Redis: ${JSON.stringify(Object.fromEntries(elsewhere))}`,
      );
    }
    await rlfClient.quit();
    await rawClient.quit();

    return {
      decisions_per_s: Math.round(mine.perSecond),
      p50_ms: round(mine.p50),
      p99_ms: round(mine.p99),
      rlf_decisions_per_s: Math.round(rlfRun.perSecond),
      ratio_vs_rlf: round(mine.perSecond / rlfRun.perSecond, 2),
      evalsha_ceiling_per_s: Math.round(ceiling.perSecond),
      share_of_ceiling: round(mine.perSecond / ceiling.perSecond, 2),
      decided_without_redis: notRedis,
      concurrency,
      seconds,
    };
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.client.del(...keys);
    } while (cursor !== '0');
    await redis.onModuleDestroy();
  }
}
