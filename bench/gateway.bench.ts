import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createPrismaClient } from '@usageguard/database';
import { hashSecret, issueSecret, secretPrefix } from '@usageguard/domain';
import { KafkaRepository } from '@usageguard/kafka';
import { RedisRepository } from '@usageguard/redis';
import { createTestEnvironment } from '@usageguard/testing';

interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Cannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  pipelining?: number;
}) => Promise<CannonResult>;
// autocannon ships no type declarations; this is the part of its API the bench uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Cannon;

/**
 * `npm run bench -- gateway [--seconds N] [--connections N] [--prof]` (--prof: a CPU profile of the edge in
 * the system temp directory, ug-edge-prof): requests per second through the edge (its own
 * process: auth cache, restrictions, one limiter round trip for a 3-rule policy, undici to the upstream, a request
 * log event to Kafka) against the same local upstream hit directly, both with autocannon.
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
  let child: ReturnType<typeof spawn> | undefined;

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

    const edge = spawn(
      process.execPath,
      [
        ...(args.includes('--prof') ? ['--cpu-prof', `--cpu-prof-dir=${path.join(tmpdir(), 'ug-edge-prof')}`] : []),
        '--max-semi-space-size=64', // as the edge runs in production (scripts/start.sh, docker-compose.yml)
        '-r',
        '@swc-node/register',
        'apps/edge/src/main.ts',
      ],
      {
        cwd: path.resolve(__dirname, '..'),
        env: { ...env.env, EDGE_PORT: '0', EDGE_ADMIN_PORT: '0', EDGE_UPSTREAM_URL: upstreamUrl, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child = edge;
    const edgeUrl = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      edge.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const found = /edge gateway listening on (http:\/\/[\d.:]+)/.exec(buffer)?.[1];
        if (found) resolve(found);
      });
      edge.once('exit', (code) => reject(new Error(`edge exited with ${code}`)));
    });

    const headers = { authorization: `Bearer ${secret.secret}` };
    const cannon = (url: string) =>
      autocannon({ url: `${url}/v1/items`, connections, duration: seconds, headers, pipelining: 1 });
    console.error(`[gateway] warm-up, then ${seconds}s × ${connections} connections: direct, then through the edge`);
    await autocannon({ url: `${edgeUrl}/v1/items`, connections, duration: Math.min(3, seconds), headers });
    const direct = await cannon(upstreamUrl);
    console.error(`[gateway] direct: ${Math.round(direct.requests.average)} req/s p50 ${direct.latency.p50} ms`);
    const through = await cannon(edgeUrl);
    console.error(
      `[gateway] edge: ${Math.round(through.requests.average)} req/s p50 ${through.latency.p50} ms, ` +
        `non-2xx ${through.non2xx}, errors ${through.errors}`,
    );
    if (through.non2xx > 0 || through.errors > 0) throw new Error('the edge answered errors under load');

    return {
      rps: Math.round(through.requests.average),
      direct_rps: Math.round(direct.requests.average),
      added_p50_ms: Math.round((through.latency.p50 - direct.latency.p50) * 1000) / 1000,
      added_p99_ms: Math.round((through.latency.p99 - direct.latency.p99) * 1000) / 1000,
      edge_p50_ms: through.latency.p50,
      edge_p99_ms: through.latency.p99,
      direct_p50_ms: direct.latency.p50,
      direct_p99_ms: direct.latency.p99,
      connections,
      seconds,
    };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
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
