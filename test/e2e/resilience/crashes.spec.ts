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
 * kill -9 under load: the control plane (ingest consumer, analyzer, enforcer, email sender, dashboard) and then the
 * edge die mid-traffic, mid-insert and mid-email, and restart. Afterwards: every event Kafka accepted is in
 * ClickHouse exactly once (reconciliation exact, rollups included); every event the HTTP ingest acknowledged is
 * there; every email was delivered exactly once; Redis holds exactly the restrictions Postgres says are active.
 */
const secretOf = (id: string) => DEMO_ACCOUNTS.find((a) => a.externalId === id)!.tokens[0].secret;
const HTTP_ACCOUNT = 'crash-test-gateway';

describe('resilience: processes killed under load', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({ env: { ANALYZER_SCHEDULE: 'false' } });
  });

  afterAll(async () => {
    await platform?.close();
  });

  it(
    'loses nothing and doubles nothing when the control plane and the edge are killed -9',
    { timeout: 420_000 },
    async () => {
      const started = new Date();
      const ops = () => opsSession(platform.controlPlaneUrl, DEMO_ADMIN.email, 'usageguard-demo');
      const accountOf = async (id: string) =>
        (await platform.prisma.apiToken.findUniqueOrThrow({ where: { secretHash: hashSecret(secretOf(id)) } }))
          .accountId;
      const globex = await accountOf('globex');
      const initech = await accountOf('initech');

      let running = true;
      const edgeStatuses: Record<string, number> = {};

      // Another gateway's logs through the HTTP ingest API, retried until acknowledged, as a real client would.
      const gateway = startGatewayLoad(platform, HTTP_ACCOUNT, 400);
      const acknowledged = gateway.acknowledged;

      // Customers through the edge.
      const customers = (async () => {
        const tokens = ['acme', 'soylent', 'globex'].map(secretOf);
        while (running) {
          await Promise.all(
            tokens.map(async (token) => {
              const response = await fetch(`${platform.edgeUrls[0]}/v1/things/${Math.floor(Math.random() * 100)}`, {
                headers: { authorization: `Bearer ${token}` },
              }).catch(() => undefined);
              const key = String(response?.status ?? 'refused');
              edgeStatuses[key] = (edgeStatuses[key] ?? 0) + 1;
              await response?.arrayBuffer();
            }),
          );
          await sleep(20);
        }
      })();

      await sleep(2_000);
      // Ops act while the platform is busy: a block (applied and lifted emails) and a warning (one email).
      const session = await ops();
      const apply = (accountId: string, mode: 'block' | 'notify') =>
        fetch(`${platform.controlPlaneUrl}/api/accounts/${accountId}/restrictions`, {
          method: 'POST',
          headers: session,
          body: JSON.stringify({
            mode,
            scope: 'account',
            statusCode: 503,
            reasonCode: 'resilience_test',
            durationSeconds: 60,
            reason: 'resilience test',
          }),
        });
      expect((await apply(globex, 'block')).status).toBeLessThan(300);
      expect((await apply(initech, 'notify')).status).toBeLessThan(300);
      // The crash comes after these two emails left: a kill -9 in the middle of an SMTP transaction leaves an email
      // the sender cannot know was delivered, which the enforcer holds for ops rather than risk a duplicate
      // (docs/enforcer.md; test/integration/enforcer/sender-crash.spec.ts covers that window).
      await waitFor(
        async () => (await platform.prisma.notification.count({ where: { status: 'SENT' } })) === 2 || undefined,
        {
          timeoutMs: 30_000,
          what: 'the applied and warning emails',
        },
      );

      await platform.controlPlane.kill();
      await sleep(1_000);
      await platform.controlPlane.start();
      await sleep(3_000);
      await platform.edges[0].kill();
      await sleep(1_000);
      await platform.edges[0].start();
      await sleep(3_000);
      running = false;
      await Promise.all([gateway.stop(), customers]);
      expect(edgeStatuses['200']).toBeGreaterThan(50);
      expect(acknowledged.size).toBeGreaterThan(2_000);

      // Every event Kafka accepted, once, in the raw table and in the rollups.
      const report = await waitReconciled(platform, started, 120_000);
      expect(report.differences).toEqual([]);
      expect(report.totals.stored).toBe(report.totals.kafka);
      // Everything the HTTP ingest acknowledged is stored, once.
      const http = await reconcile(
        platform,
        new Date(started.getTime() - 60_000),
        new Date(Date.now() + 60_000),
        HTTP_ACCOUNT,
      );
      expect(http.totals.distinct).toBe(acknowledged.size);
      expect(http.totals.stored).toBe(acknowledged.size);
      expect(http.totals.rollup).toBe(acknowledged.size);

      // Every email exactly once: the block's applied and lifted emails (after its 60 s) and the warning.
      await waitFor(
        async () => {
          const kinds = await platform.prisma.notification.groupBy({ by: ['kind', 'status'], _count: true });
          const sent = kinds.filter((k) => k.status === 'SENT').reduce((n, k) => n + k._count, 0);
          return sent >= 3 && kinds.every((k) => k.status === 'SENT') ? kinds : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 2_000, what: 'every notification to be sent' },
      );
      const notifications = await platform.prisma.notification.findMany();
      for (const n of notifications) {
        expect([n.kind, platform.smtp.received.filter((m) => m.idempotencyKey === n.idempotencyKey).length]).toEqual([
          n.kind,
          1,
        ]);
      }
      expect(notifications.map((n) => n.kind).sort()).toEqual(['RESTRICTION_APPLIED', 'RESTRICTION_LIFTED', 'WARNING']);

      // Redis holds exactly what Postgres says is active.
      expect(await restrictionDrift(platform)).toEqual([]);
    },
  );
});
