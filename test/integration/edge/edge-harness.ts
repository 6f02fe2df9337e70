import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createPrismaClient } from '@usageguard/database';
import { hashSecret, issueSecret, secretPrefix } from '@usageguard/domain';
import { KafkaRepository } from '@usageguard/kafka';
import { RedisRepository } from '@usageguard/redis';
import { createTestEnvironment, type TestEnvironment } from '@usageguard/testing';
import { DEMO_PLANS, type DemoPlan } from '../../../prisma/demo-data';

const ROOT = path.resolve(__dirname, '../../..');

/** An upstream API for the gateway to front: echoes the request, can be slow, counts what is in flight. */
export interface Upstream {
  url: string;
  inFlight: () => number;
  seen: IncomingMessage[];
  aborted: () => number;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  let inFlight = 0;
  let aborted = 0;
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req);
    inFlight++;
    let done = false;
    const end = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.on('close', () => {
      if (!res.writableFinished) aborted++;
      end();
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://upstream');
      const delay = Number(url.searchParams.get('delay') ?? 0);
      const reply = () => {
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          account: req.headers['x-usageguard-account'],
          bytes: Buffer.concat(chunks).length,
        });
        res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'content-type': 'application/json' });
        res.end(body);
      };
      if (delay > 0) setTimeout(reply, delay);
      else reply();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inFlight: () => inFlight,
    aborted: () => aborted,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface EdgeProcess {
  url: string;
  adminUrl: string;
  child: ChildProcess;
  logs: string[];
  stop(): Promise<void>;
}

/** Starts `apps/edge/src/main.ts` as its own process (port 0) and waits until its gateway and admin ports listen. */
export async function startEdge(env: Record<string, string>): Promise<EdgeProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/edge/src/main.ts'], {
    cwd: ROOT,
    env: { ...env, EDGE_PORT: '0', EDGE_ADMIN_PORT: '0', LOG_LEVEL: 'info', TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let gateway: string | undefined;
  let admin: string | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`edge did not start:\n${logs.join('\n')}`)), 60_000);
    const onLine = (line: string) => {
      logs.push(line);
      gateway ??= /edge gateway listening on (http:\/\/[\d.:]+)/.exec(line)?.[1];
      admin ??= /edge-admin listening on (http:\/\/[\d.:[\]]+)/.exec(line)?.[1];
      if (gateway && admin) {
        clearTimeout(timer);
        resolve();
      }
    };
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`edge exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  await ready;
  return {
    url: gateway!,
    adminUrl: admin!.replace('[::1]', '127.0.0.1'),
    child,
    logs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export interface Account {
  accountId: string;
  tokenId: string;
  secret: string;
}

/** One test's world: its own database with the demo plans, Redis prefix and Kafka topics. */
export interface EdgeWorld {
  env: TestEnvironment;
  prisma: ReturnType<typeof createPrismaClient>;
  redis: RedisRepository;
  plans: Map<string, string>;
  account(planKey: string, tokens?: number): Promise<Account & { extra: Account[] }>;
  cleanup(): Promise<void>;
}

export async function createEdgeWorld(plans: DemoPlan[] = DEMO_PLANS): Promise<EdgeWorld> {
  const env = await createTestEnvironment({ database: true });
  const prisma = createPrismaClient(env.config.database.url);
  const redis = new RedisRepository(env.config);
  const kafka = new KafkaRepository(env.config);
  await kafka.ensureTopics();
  const ids = new Map<string, string>();
  for (const plan of plans) {
    const { rules, ...fields } = plan;
    const saved = await prisma.plan.create({ data: fields });
    ids.set(plan.key, saved.id);
    for (const [position, rule] of rules.entries()) {
      await prisma.limitRule.create({
        data: {
          planId: saved.id,
          name: rule.name,
          scope: rule.scope,
          windows: rule.windows,
          routes: rule.routes ?? [],
          cidrs: rule.cidrs ?? [],
          concurrency: rule.concurrency ?? null,
          cost: rule.cost ?? 1,
          failMode: rule.failMode ?? 'OPEN',
          shadow: rule.shadow ?? false,
          countLimited: rule.countLimited ?? false,
          position,
        },
      });
    }
  }
  let n = 0;
  return {
    env,
    prisma,
    redis,
    plans: ids,
    account: async (planKey, tokens = 1) => {
      const account = await prisma.account.create({
        data: { name: `acct-${++n}`, planId: ids.get(planKey)! },
      });
      const made: Account[] = [];
      for (let i = 0; i < tokens; i++) {
        const issued = issueSecret('live');
        const token = await prisma.apiToken.create({
          data: {
            accountId: account.id,
            name: `t${i}`,
            prefix: secretPrefix(issued.secret),
            secretHash: hashSecret(issued.secret),
          },
        });
        made.push({ accountId: account.id, tokenId: token.id, secret: issued.secret });
      }
      return { ...made[0], extra: made.slice(1) };
    },
    cleanup: async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.client.scan(cursor, 'MATCH', `${redis.prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length > 0) await redis.client.del(...keys);
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: kafka.defaultTopics().map((t) => t.topic) }).catch(() => undefined);
      await kafka.onModuleDestroy();
      await redis.onModuleDestroy();
      await prisma.$disconnect();
      await env.cleanup();
    },
  };
}

export function bearer(secret: string): Record<string, string> {
  return { authorization: `Bearer ${secret}` };
}
