import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { type RequestLogEvent, restrictionKeys, type RestrictionScopeName } from '@usageguard/contracts';
import { createPrismaClient, type PrismaClient } from '@usageguard/database';
import { KafkaRepository } from '@usageguard/kafka';
import { createTestEnvironment, sleep, type TestEnvironment, waitFor } from '@usageguard/testing';
import { DEMO_INGEST_KEY } from '../../prisma/demo-data';
import { startSmtpSink, type SmtpSink } from '../integration/enforcer/smtp-sink';

/**
 * The whole platform as it runs in production, on this test's own database, Kafka topics, Redis prefix and
 * ClickHouse directory: the control plane (ingest + analyzer + enforcer + dashboard) and the edge(s) as child
 * processes, a real SMTP server, and a stand-in upstream API. Processes can be killed (-9) and restarted.
 */
const root = path.resolve(__dirname, '../..');

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class ManagedProcess {
  private child?: ChildProcess;
  readonly log: string[] = [];
  exits = 0;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    readonly healthUrl: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', this.entry], {
      cwd: root,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.log.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.log.length > 400) this.log.splice(0, this.log.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', () => this.exits++);
    await waitFor(
      async () => {
        if (!this.running) throw new Error(`${this.name} exited: ${this.log.slice(-15).join('\n')}`);
        const response = await fetch(this.healthUrl).catch(() => undefined);
        return response?.status === 200;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `${this.name} healthy at ${this.healthUrl}` },
    );
  }

  /** kill -9: no shutdown hooks, no flushing, like a crashed machine. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface Upstream {
  port: number;
  requests: number;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const upstream: Upstream = { port: 0, requests: 0, close: () => Promise.resolve() };
  const server: Server = createServer((req, res) => {
    upstream.requests++;
    req.resume();
    req.on('end', () => {
      const denied = req.method === 'POST' && (req.url ?? '').startsWith('/v1/auth/login');
      res.writeHead(denied ? 401 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: !denied, path: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.address() as AddressInfo).port;
  upstream.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return upstream;
}

export interface Platform {
  test: TestEnvironment;
  env: Record<string, string>;
  controlPlaneUrl: string;
  edgeUrls: string[];
  controlPlane: ManagedProcess;
  edges: ManagedProcess[];
  smtp: SmtpSink;
  upstream: Upstream;
  prisma: PrismaClient;
  redis: Redis;
  close(): Promise<void>;
}

export interface PlatformOptions {
  edges?: number;
  env?: Record<string, string>;
  /** Runs after the seed and before the processes start (plan tweaks for the test). */
  prepare?: (prisma: PrismaClient) => Promise<void>;
}

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const test = await createTestEnvironment({ database: true });
  const smtp = await startSmtpSink();
  const upstream = await startUpstream();
  const dashboardPort = await freePort();
  const edgePorts = await Promise.all(
    Array.from({ length: options.edges ?? 1 }, async () => [await freePort(), await freePort()]),
  );
  const env: Record<string, string> = {
    ...test.env,
    LOG_LEVEL: 'warn',
    DASHBOARD_PORT: String(dashboardPort),
    EDGE_UPSTREAM_URL: `http://127.0.0.1:${upstream.port}`,
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    PUBLIC_URL: `http://127.0.0.1:${dashboardPort}`,
    ANALYZER_INTERVAL_SECONDS: '10',
    EDGE_TRUST_PROXY: 'true',
    ...options.env,
  };

  const seed = spawnSync(process.execPath, ['-r', '@swc-node/register', 'prisma/seed.ts'], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (seed.status !== 0) throw new Error(`seed failed: ${seed.stderr}`);
  const prisma = createPrismaClient(env.DATABASE_URL);
  await options.prepare?.(prisma);
  const kafka = new KafkaRepository(test.config);
  await kafka.ensureTopics();
  await kafka.onModuleDestroy();

  const controlPlaneUrl = `http://127.0.0.1:${dashboardPort}`;
  const controlPlane = new ManagedProcess(
    'control-plane',
    'apps/control-plane/main.ts',
    env,
    `${controlPlaneUrl}/health`,
  );
  const edges = edgePorts.map(
    ([port, admin], i) =>
      new ManagedProcess(
        `edge-${i + 1}`,
        'apps/edge/src/main.ts',
        { ...env, EDGE_PORT: String(port), EDGE_ADMIN_PORT: String(admin) },
        `http://127.0.0.1:${admin}/health`,
      ),
  );
  await controlPlane.start();
  for (const edge of edges) await edge.start();

  const redis = new Redis(test.config.redis.url, { lazyConnect: false });
  redis.on('error', () => undefined); // outage tests stop Redis on purpose; commands fail, the client reconnects
  return {
    test,
    env,
    controlPlaneUrl,
    edgeUrls: edgePorts.map(([port]) => `http://127.0.0.1:${port}`),
    controlPlane,
    edges,
    smtp,
    upstream,
    prisma,
    redis,
    close: async () => {
      for (const edge of edges) await edge.stop();
      await controlPlane.stop();
      await prisma.$disconnect();
      const keys = await redis.keys(`${test.config.redis.prefix}*`);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      redis.disconnect();
      await smtp.close();
      await upstream.close();
      await test.cleanup();
    },
  };
}

/** Signs in to the dashboard API; returns the headers an authenticated, CSRF-protected call needs. */
export async function opsSession(
  controlPlaneUrl: string,
  email: string,
  password: string,
): Promise<Record<string, string>> {
  const response = await fetch(`${controlPlaneUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200) throw new Error(`login answered ${response.status}: ${await response.text()}`);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0];
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  return { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' };
}

/**
 * Another gateway pushing its logs through POST /v1/ingest/logs until stop() is called: batches of `batch` fresh
 * events, each call retried (503 while Kafka is away, refused while the control plane restarts) until it is
 * acknowledged, as a well-behaved client would. `acknowledged` holds the ids of every acknowledged event.
 */
export function startGatewayLoad(platform: Platform, accountId: string, batch: number) {
  const acknowledged = new Set<string>();
  let running = true;
  const done = (async () => {
    while (running) {
      const events: RequestLogEvent[] = Array.from({ length: batch }, () => ({
        v: 1,
        eventId: randomUUID(),
        ts: new Date().toISOString(),
        accountId,
        tokenId: null,
        clientIp: '203.0.113.9',
        method: 'GET',
        route: '/v1/things/:id',
        status: 200,
        latencyMs: 3,
        bytesIn: 0,
        bytesOut: 120,
        operation: 'read',
        decision: 'allowed',
        requestId: randomUUID(),
      }));
      for (;;) {
        const response = await fetch(`${platform.controlPlaneUrl}/v1/ingest/logs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${DEMO_INGEST_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(events),
        }).catch(() => undefined);
        await response?.arrayBuffer();
        if (response?.status === 202) break;
        await sleep(200);
      }
      for (const event of events) acknowledged.add(event.eventId);
      await sleep(100);
    }
  })();
  return {
    acknowledged,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

export interface ReconciliationReport {
  consistent: boolean;
  pending: number;
  totals: { kafka: number; stored: number; distinct: number; rollup: number };
  differences: unknown[];
}

/** GET /v1/ingest/reconciliation: what Kafka accepted against what ClickHouse holds, per account × minute. */
export async function reconcile(
  platform: Platform,
  from: Date,
  to: Date,
  accountId?: string,
): Promise<ReconciliationReport> {
  const query = new URLSearchParams({
    from: from.toISOString(),
    to: to.toISOString(),
    ...(accountId ? { accountId } : {}),
  });
  const response = await fetch(`${platform.controlPlaneUrl}/v1/ingest/reconciliation?${query.toString()}`, {
    headers: { authorization: `Bearer ${DEMO_INGEST_KEY}` },
  });
  return (await response.json()) as ReconciliationReport;
}

/** Waits until everything Kafka accepted since `from` is in ClickHouse exactly once, and returns that report. */
export async function waitReconciled(platform: Platform, from: Date, timeoutMs: number): Promise<ReconciliationReport> {
  let last: ReconciliationReport | undefined;
  try {
    return await waitFor(
      async () => {
        last = await reconcile(platform, new Date(from.getTime() - 60_000), new Date(Date.now() + 60_000));
        return last.consistent && last.pending === 0 ? last : undefined;
      },
      { timeoutMs, intervalMs: 2_000, what: 'reconciliation to be exact' },
    );
  } catch (error) {
    // Say what stayed different: the pending count, the totals and the first cells that disagree.
    const seen = last && { pending: last.pending, totals: last.totals, differences: last.differences.slice(0, 10) };
    throw new Error(`${(error as Error).message}; last report: ${JSON.stringify(seen)}`);
  }
}

/**
 * The restrictions the edge reads from Redis against the ones Postgres says are active: a list of what differs
 * (empty when they agree). Notify-only restrictions have no Redis record.
 */
export async function restrictionDrift(platform: Platform): Promise<string[]> {
  const prefix = platform.test.config.redis.prefix;
  const active = await platform.prisma.restriction.findMany({ where: { status: 'ACTIVE', mode: { not: 'NOTIFY' } } });
  const drift: string[] = [];
  for (const r of active) {
    const key = restrictionKeys.record(
      prefix,
      r.accountId,
      r.scope.toLowerCase() as RestrictionScopeName,
      r.scopeValue,
    );
    const record = JSON.parse((await platform.redis.get(key)) ?? 'null') as { version: number } | null;
    if (record?.version !== r.version) drift.push(`${key}: redis v${record?.version ?? '-'}, postgres v${r.version}`);
  }
  const records = await platform.redis.keys(`${prefix}restriction:*`);
  if (records.length !== active.length)
    drift.push(`${records.length} records in Redis, ${active.length} active in Postgres`);
  return drift;
}
