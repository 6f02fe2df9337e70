import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createPrismaClient } from '@usageguard/database';
import { hashSecret, issueSecret, secretPrefix } from '@usageguard/domain';
import { KafkaRepository } from '@usageguard/kafka';
import { RedisRepository } from '@usageguard/redis';
import { createTestEnvironment } from '@usageguard/testing';
import { Pool } from 'undici';

interface CannonResult {
  requests: { average: number };
  non2xx: number;
  errors: number;
}
interface CannonOptions {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  pipelining?: number;
}
interface CannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Cannon = (options: CannonOptions, done: (error: Error | null, result: CannonResult) => void) => CannonInstance;
// autocannon ships no type declarations; this is the part of its API the bench uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Cannon;

interface Load {
  rps: number;
  non2xx: number;
  errors: number;
  /** Sorted response times in ms, at microsecond resolution (autocannon's own percentiles are whole ms). */
  latencies: Float64Array;
  /** CPU time (user + system) the measured process spent per response, in µs; NaN without /proc. */
  cpuPerRequestUs: number;
}

/**
 * CPU seconds a process has used so far, from /proc/<pid>/stat (utime + stime, in USER_HZ ticks, 100 a second on
 * Linux); NaN where there is no /proc. Unlike a sampling profile it does not count time the process waited for a
 * core, which on this 2-core machine (autocannon, the upstream, Redis and Kafka beside it) is most of the noise.
 */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

interface Target {
  url: string;
  /** The process that answers, for its CPU time; none for the upstream (it shares the bench's process). */
  pid?: number;
}

/** One autocannon run; latencies come from its per-response hrtime, not from its whole-millisecond histogram. */
function load(target: Target, options: Omit<CannonOptions, 'url'>): Promise<Load> {
  const times: number[] = [];
  const cpu = () => (target.pid === undefined ? NaN : cpuSeconds(target.pid));
  const cpuBefore = cpu();
  return new Promise((resolve, reject) => {
    const instance = autocannon({ ...options, url: `${target.url}/v1/items` }, (error, result) => {
      if (error) return reject(error);
      resolve({
        rps: result.requests.average,
        non2xx: result.non2xx,
        errors: result.errors,
        latencies: Float64Array.from(times).sort(),
        cpuPerRequestUs: ((cpu() - cpuBefore) * 1e6) / times.length,
      });
    });
    instance.on('response', (_client, _status, _bytes, ms) => times.push(ms));
  });
}

/**
 * An open-model load for latency: `rate` requests a second, evenly spaced (every millisecond tick sends what is due),
 * over `connections` keep-alive connections, for `seconds`. autocannon cannot do this: its per-connection rate lets
 * each connection send as fast as answered until it has made its share of the second, then pause until the next
 * second, so "1,000 req/s over 10 connections" is a saturating burst of ten closed loops at the top of every second.
 * Latency is measured from the moment a request is sent to the end of its body.
 */
async function paced(target: Target, rate: number, seconds: number, connections: number, headers: Headers) {
  const pool = new Pool(target.url, { connections, pipelining: 1 });
  const times: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const cpu = () => (target.pid === undefined ? NaN : cpuSeconds(target.pid));
  const cpuBefore = cpu();
  const total = Math.round(rate * seconds);
  const inFlight = new Set<Promise<void>>();
  const send = () => {
    const sent = performance.now();
    const request = pool
      .request({ path: '/v1/items', method: 'GET', headers })
      .then(async (response) => {
        await response.body.dump();
        times.push(performance.now() - sent);
        if (response.statusCode < 200 || response.statusCode >= 300) non2xx++;
      })
      .catch(() => void errors++)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const started = performance.now();
  let issued = 0;
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
      while (issued < due) {
        send();
        issued++;
      }
      if (issued >= total) {
        clearInterval(tick);
        done();
      }
    }, 1);
  });
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return {
    rps: times.length / elapsed,
    non2xx,
    errors,
    latencies: Float64Array.from(times).sort(),
    cpuPerRequestUs: ((cpu() - cpuBefore) * 1e6) / times.length,
  } satisfies Load;
}

type Headers = Record<string, string>;

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const ms = (n: number) => Math.round(n * 1000) / 1000;

/**
 * `npm run bench -- gateway [--seconds N] [--connections N] [--rate N] [--prof]` (--prof: a CPU profile of the
 * edge in the system temp directory, ug-edge-prof): requests per second through the edge (its own process: auth
 * cache, restrictions, one limiter round trip for a 3-rule policy, undici to the upstream, a request log event to
 * Kafka) against the same local upstream hit directly, both with autocannon as fast as they answer; then the
 * latency the edge adds, with both offered the same evenly paced load below saturation (paced(): --rate, default
 * 1,000 req/s, over the same connections), and with one connection at 200 req/s. The peer in every phase is bench/peers/bare-proxy.ts: the
 * same undici forwarding with nothing else, the floor of a Node proxy hop on the machine.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const seconds = arg('seconds', 10);
  const connections = arg('connections', 10);

  const env = await createTestEnvironment({ database: true });
  const prisma = createPrismaClient(env.config.database.url);
  const kafka = new KafkaRepository(env.config);
  const redis = new RedisRepository(env.config);
  const body = JSON.stringify({ items: [{ id: 1, name: 'widget' }] });
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const children: ReturnType<typeof spawn>[] = [];
  /** Starts a process of the repository and resolves with the URL it announces on stdout, and its pid. */
  const start = (script: string, scriptArgs: string[], env: Record<string, string>, flags: string[], ready: RegExp) => {
    const child = spawn(process.execPath, [...flags, '-r', '@swc-node/register', script, ...scriptArgs], {
      cwd: path.resolve(__dirname, '..'),
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    return new Promise<Target>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const found = ready.exec(buffer)?.[1];
        if (found) resolve({ url: found, pid: child.pid });
      });
      child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    });
  };

  try {
    await kafka.ensureTopics();
    // Limits high enough never to deny: the bench measures the cost of deciding, not of refusing.
    const plan = await prisma.plan.create({ data: { key: 'bench', name: 'bench' } });
    const windows = [
      { limit: 100_000_000, seconds: 60 },
      { limit: 100_000_000, seconds: 3600 },
    ];
    for (const [position, scope] of (['TOKEN', 'ACCOUNT', 'IP'] as const).entries()) {
      await prisma.limitRule.create({ data: { planId: plan.id, name: scope.toLowerCase(), scope, windows, position } });
    }
    const account = await prisma.account.create({ data: { name: 'bench', planId: plan.id } });
    const secret = issueSecret('live');
    await prisma.apiToken.create({
      data: {
        accountId: account.id,
        name: 'bench',
        prefix: secretPrefix(secret.secret),
        secretHash: hashSecret(secret.secret),
      },
    });

    const edge = await start(
      'apps/edge/src/main.ts',
      [],
      { ...env.env, EDGE_PORT: '0', EDGE_ADMIN_PORT: '0', EDGE_UPSTREAM_URL: upstreamUrl, LOG_LEVEL: 'info' },
      [
        ...(args.includes('--prof') ? ['--cpu-prof', `--cpu-prof-dir=${path.join(tmpdir(), 'ug-edge-prof')}`] : []),
        '--max-semi-space-size=64', // as the edge runs in production (scripts/start.sh, docker-compose.yml)
      ],
      /edge gateway listening on (http:\/\/[\d.:]+)/,
    );
    const bareProxy = await start(
      'bench/peers/bare-proxy.ts',
      [upstreamUrl],
      { ...env.env },
      ['--max-semi-space-size=64'],
      /bare proxy listening on (http:\/\/[\d.:]+)/,
    );

    const headers = { authorization: `Bearer ${secret.secret}` };
    const directly: Target = { url: upstreamUrl };
    console.error(
      `[gateway] warm-up, then ${seconds}s × ${connections} connections: direct, through a bare proxy, through the edge`,
    );
    await load(edge, { connections, duration: Math.min(3, seconds), headers });
    await load(bareProxy, { connections, duration: 1, headers });
    // Throughput: as fast as each side answers (a closed loop, so latencies here include queueing at saturation).
    const direct = await load(directly, { connections, duration: seconds, headers });
    console.error(`[gateway] direct: ${Math.round(direct.rps)} req/s`);
    const bare = await load(bareProxy, { connections, duration: seconds, headers });
    console.error(`[gateway] bare proxy: ${Math.round(bare.rps)} req/s`);
    const through = await load(edge, { connections, duration: seconds, headers });
    console.error(
      `[gateway] edge: ${Math.round(through.rps)} req/s, non-2xx ${through.non2xx}, errors ${through.errors}`,
    );
    if (through.non2xx > 0 || through.errors > 0) throw new Error('the edge answered errors under load');

    // Added latency: the same offered load below saturation for both, so the difference is the edge's own work
    // and round trips, not a queue that only the slower side builds up.
    const rate = arg('rate', 1000);
    console.error(`[gateway] added latency at ${rate} req/s offered to each, ${seconds}s`);
    const directAtRate = await paced(directly, rate, seconds, connections, headers);
    const bareAtRate = await paced(bareProxy, rate, seconds, connections, headers);
    const edgeAtRate = await paced(edge, rate, seconds, connections, headers);
    if (edgeAtRate.non2xx > 0 || edgeAtRate.errors > 0) throw new Error('the edge answered errors under load');
    // And one client at a time, where nothing queues: the latency the edge's own work and round trips add.
    const alone = Math.max(3, Math.round(seconds / 2));
    const directAlone = await paced(directly, 200, alone, 1, headers);
    const bareAlone = await paced(bareProxy, 200, alone, 1, headers);
    const edgeAlone = await paced(edge, 200, alone, 1, headers);
    const p = (l: Load, q: number) => percentile(l.latencies, q);
    console.error(
      `[gateway] one client at 200 req/s: direct p50 ${ms(p(directAlone, 0.5))} ms, bare proxy ` +
        `${ms(p(bareAlone, 0.5))} ms, edge ${ms(p(edgeAlone, 0.5))} ms`,
    );
    console.error(
      `[gateway] at ${rate} req/s: direct p50 ${ms(p(directAtRate, 0.5))} ms p99 ${ms(p(directAtRate, 0.99))} ms; ` +
        `bare proxy p50 ${ms(p(bareAtRate, 0.5))} ms p99 ${ms(p(bareAtRate, 0.99))} ms; ` +
        `edge p50 ${ms(p(edgeAtRate, 0.5))} ms p99 ${ms(p(edgeAtRate, 0.99))} ms`,
    );

    return {
      rps: Math.round(through.rps),
      direct_rps: Math.round(direct.rps),
      added_p50_ms: ms(p(edgeAtRate, 0.5) - p(directAtRate, 0.5)),
      added_p99_ms: ms(p(edgeAtRate, 0.99) - p(directAtRate, 0.99)),
      latency_rate_rps: rate,
      edge_p50_ms: ms(p(edgeAtRate, 0.5)),
      edge_p99_ms: ms(p(edgeAtRate, 0.99)),
      direct_p50_ms: ms(p(directAtRate, 0.5)),
      direct_p99_ms: ms(p(directAtRate, 0.99)),
      bare_proxy_rps: Math.round(bare.rps),
      bare_proxy_added_p50_ms: ms(p(bareAtRate, 0.5) - p(directAtRate, 0.5)),
      bare_proxy_added_p99_ms: ms(p(bareAtRate, 0.99) - p(directAtRate, 0.99)),
      rps_vs_bare_proxy: Math.round((through.rps / bare.rps) * 100) / 100,
      one_client_added_p50_ms: ms(p(edgeAlone, 0.5) - p(directAlone, 0.5)),
      one_client_added_p99_ms: ms(p(edgeAlone, 0.99) - p(directAlone, 0.99)),
      one_client_bare_proxy_added_p50_ms: ms(p(bareAlone, 0.5) - p(directAlone, 0.5)),
      saturated_added_p50_ms: ms(p(through, 0.5) - p(direct, 0.5)),
      saturated_edge_p99_ms: ms(p(through, 0.99)),
      edge_cpu_us_per_request: Math.round(through.cpuPerRequestUs),
      bare_proxy_cpu_us_per_request: Math.round(bare.cpuPerRequestUs),
      edge_cpu_us_per_request_at_rate: Math.round(edgeAtRate.cpuPerRequestUs),
      bare_proxy_cpu_us_per_request_at_rate: Math.round(bareAtRate.cpuPerRequestUs),
      connections,
      seconds,
    };
  } finally {
    for (const child of children) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    upstream.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: kafka.defaultTopics().map((t) => t.topic) }).catch(() => undefined);
    await kafka.onModuleDestroy();
    const keys = await redis.client.keys(`${redis.prefix}*`);
    if (keys.length > 0) await redis.client.del(...keys);
    await redis.onModuleDestroy();
    await prisma.$disconnect();
    await env.cleanup();
  }
}
