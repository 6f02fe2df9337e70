import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@usageguard/domain';
import { sleep, waitFor } from '@usageguard/testing';
import { DEMO_ACCOUNTS, DEMO_ADMIN } from '../../../prisma/demo-data';
import {
  opsSession,
  type Platform,
  reconcile,
  restrictionDrift,
  startGatewayLoad,
  startPlatform,
  waitReconciled,
} from '../platform';

/**
 * The real Kafka, Redis and Postgres stopped for a while, one after the other, under load. This test stops the
 * machine's shared services, so it lives in the e2e project, which runs alone after every other test; it always
 * starts them again, even when it fails.
 *
 * Afterwards: nothing acknowledged is lost or doubled (reconciliation exact), the edge kept answering customers
 * through the Redis and Postgres outages, every email went out exactly once, and Redis — restarted empty — holds
 * again exactly the restrictions Postgres says are active.
 */
const root = path.resolve(__dirname, '../../..');
const secretOf = (id: string) => DEMO_ACCOUNTS.find((a) => a.externalId === id)!.tokens[0].secret;
const HTTP_ACCOUNT = 'outage-test-gateway';
const pgVersion = () => readdirSync('/etc/postgresql').sort().pop()!;
const run = (command: string, args: string[]) =>
  execFileSync(command, args, { cwd: root, stdio: 'pipe', timeout: 120_000 });

const services = {
  stopKafka: () => run('bash', ['stack/stack.sh', 'down']),
  startKafka: () => run('bash', ['stack/stack.sh', 'up']),
  stopRedis: () => run('redis-cli', ['-p', '6379', 'shutdown', 'nosave']),
  startRedis: () => {
    try {
      run('redis-cli', ['-p', '6379', 'ping']);
    } catch {
      run('redis-server', [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
      ]);
    }
  },
  stopPostgres: () => run('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', 'stop', '-m', 'fast']),
  startPostgres: () => {
    try {
      run('pg_isready', ['-q', '-h', '127.0.0.1']);
    } catch {
      run('pg_ctlcluster', ['--skip-systemctl-redirect', pgVersion(), 'main', 'start']);
    }
  },
};

function restoreAll(): void {
  for (const start of [services.startPostgres, services.startRedis, services.startKafka]) {
    try {
      start();
    } catch (error) {
      console.error(`could not restart a service: ${(error as Error).message}`);
    }
  }
}

describe('resilience: Kafka, Redis and Postgres stopped for a while', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({ env: { ANALYZER_SCHEDULE: 'false' } });
  });

  afterAll(async () => {
    restoreAll();
    await platform?.close();
  });

  it('recovers by itself with nothing lost, nothing doubled and every restriction back at the edge', async () => {
    const started = new Date();
    const accountOf = async (id: string) =>
      (await platform.prisma.apiToken.findUniqueOrThrow({ where: { secretHash: hashSecret(secretOf(id)) } })).accountId;
    const globex = await accountOf('globex');
    const session = await opsSession(platform.controlPlaneUrl, DEMO_ADMIN.email, 'usageguard-demo');
    const applied = await fetch(`${platform.controlPlaneUrl}/api/accounts/${globex}/restrictions`, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({
        mode: 'block',
        scope: 'account',
        statusCode: 503,
        reasonCode: 'outage_test',
        durationSeconds: 60,
        reason: 'outage test',
      }),
    });
    expect(applied.status).toBeLessThan(300);

    let running = true;
    let phase = 'normal';
    const edgeByPhase: Record<string, Record<string, number>> = {};

    // A well-behaved gateway: it retries a 503 (Kafka away) or a refused connection until acknowledged.
    const gateway = startGatewayLoad(platform, HTTP_ACCOUNT, 200);
    const acknowledged = gateway.acknowledged;

    const customers = (async () => {
      const token = secretOf('acme');
      while (running) {
        const response = await fetch(`${platform.edgeUrls[0]}/v1/things/${Math.floor(Math.random() * 100)}`, {
          headers: { authorization: `Bearer ${token}` },
        }).catch(() => undefined);
        const counts = (edgeByPhase[phase] ??= {});
        const key = String(response?.status ?? 'refused');
        counts[key] = (counts[key] ?? 0) + 1;
        await response?.arrayBuffer();
        await sleep(25);
      }
    })();

    try {
      await sleep(2_000);
      phase = 'kafka-down';
      services.stopKafka();
      await sleep(8_000);
      services.startKafka();
      phase = 'normal';
      await sleep(5_000);
      phase = 'redis-down';
      services.stopRedis();
      await sleep(5_000);
      services.startRedis();
      phase = 'normal';
      await sleep(5_000);
      phase = 'postgres-down';
      services.stopPostgres();
      await sleep(5_000);
      services.startPostgres();
      phase = 'normal';
      await sleep(5_000);
    } finally {
      restoreAll();
      running = false;
      await Promise.all([gateway.stop(), customers]);
    }

    // The edge answered customers through every outage (events it could not hand to Kafka waited in its buffer).
    for (const outage of ['kafka-down', 'redis-down', 'postgres-down']) {
      expect([outage, (edgeByPhase[outage]?.['200'] ?? 0) > 20]).toEqual([outage, true]);
    }

    const report = await waitReconciled(platform, started, 180_000);
    expect(report.differences).toEqual([]);
    const http = await reconcile(
      platform,
      new Date(started.getTime() - 60_000),
      new Date(Date.now() + 60_000),
      HTTP_ACCOUNT,
    );
    expect(http.totals.stored).toBe(acknowledged.size);
    expect(http.totals.distinct).toBe(acknowledged.size);

    // The block expired during or after the outages: applied and lifted emails, once each.
    await waitFor(
      async () => (await platform.prisma.notification.count({ where: { status: 'SENT' } })) >= 2 || undefined,
      { timeoutMs: 180_000, intervalMs: 2_000, what: 'the applied and lifted emails' },
    );
    const notifications = await platform.prisma.notification.findMany();
    expect(notifications.map((n) => n.kind).sort()).toEqual(['RESTRICTION_APPLIED', 'RESTRICTION_LIFTED']);
    for (const n of notifications) {
      expect(platform.smtp.received.filter((m) => m.idempotencyKey === n.idempotencyKey)).toHaveLength(1);
    }

    // Redis came back empty; the enforcer's reconcile put back exactly what Postgres says is active.
    await waitFor(async () => (await restrictionDrift(platform)).length === 0 || undefined, {
      timeoutMs: 120_000,
      intervalMs: 2_000,
      what: 'Redis to match Postgres',
    });
  });
});
