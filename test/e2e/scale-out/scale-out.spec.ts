import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AssignerProtocol } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseModule } from '@usageguard/clickhouse';
import { ConfigModule } from '@usageguard/config';
import { DatabaseModule, createPrismaClient, type PrismaClient } from '@usageguard/database';
import { hashSecret, issueSecret, secretPrefix } from '@usageguard/domain';
import { KafkaModule, KafkaRepository } from '@usageguard/kafka';
import { ObservabilityModule } from '@usageguard/observability';
import { createTestEnvironment, type TestEnvironment, waitFor } from '@usageguard/testing';
import { RequestLogConsumer } from '../../../apps/ingest/src/consumers/request-log.consumer';
import { IngestModule } from '../../../apps/ingest/src/ingest.module';
import { DEFAULT_INGEST_OPTIONS } from '../../../apps/ingest/src/ingest.options';
import { IngestMetrics } from '../../../apps/ingest/src/services/ingest-metrics.service';
import { ReconciliationService } from '../../../apps/ingest/src/services/reconciliation.service';
import { RequestLogStore } from '../../../apps/ingest/src/services/request-log-store.service';
import { freePort, ManagedProcess, startUpstream, type Upstream } from '../platform';

/**
 * Scale-out on one machine: two edge processes share the customers' traffic and two ingest consumers (each running
 * `members` members of the consumer group) share the partitions; every answered request is stored exactly once (reconciliation exact,
 * totals equal to the answers counted by the clients) and both consumers did part of the work.
 *
 * The two consumers run in this test's process on one chDB directory: chDB binds a data directory to one process,
 * so separate ingest processes need a ClickHouse server (CLICKHOUSE_URL), which this machine does not run. They
 * are nonetheless two independent Kafka consumer-group members with their own fetch loops and offsets.
 */
const root = path.resolve(__dirname, '../../..');
const ACCOUNTS = 12;

describe('scale-out: two edges, two ingest consumers', () => {
  let test: TestEnvironment;
  let prisma: PrismaClient;
  let upstream: Upstream;
  let app: INestApplicationContext;
  let second: RequestLogConsumer;
  const edges: ManagedProcess[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    test = await createTestEnvironment({ database: true });
    upstream = await startUpstream();
    Object.assign(process.env, test.env, { LOG_LEVEL: 'warn' });
    const seed = spawnSync(process.execPath, ['-r', '@swc-node/register', 'prisma/seed.ts'], {
      cwd: root,
      env: test.env,
      encoding: 'utf8',
    });
    if (seed.status !== 0) throw new Error(`seed failed: ${seed.stderr}`);
    prisma = createPrismaClient(test.env.DATABASE_URL);
    const plan = await prisma.plan.findUniqueOrThrow({ where: { key: 'kobble-reasonable-use' } });
    for (let i = 0; i < ACCOUNTS; i++) {
      const secret = issueSecret('live');
      await prisma.account.create({
        data: {
          name: `Scale ${i}`,
          planId: plan.id,
          tokens: {
            create: [{ name: 'main', prefix: secretPrefix(secret.secret), secretHash: hashSecret(secret.secret) }],
          },
        },
      });
      tokens.push(secret.secret);
    }

    @Module({
      imports: [
        ConfigModule,
        ObservabilityModule.forRoot({ app: 'scale-out-test', probes: { inject: [], useFactory: () => [] } }),
        DatabaseModule,
        KafkaModule,
        ClickHouseModule,
        IngestModule,
      ],
    })
    class IngestTestModule {}
    app = await NestFactory.createApplicationContext(IngestTestModule, { logger: ['error'] });
    await app.init();
    second = new RequestLogConsumer(app.get(KafkaRepository), app.get(RequestLogStore), app.get(IngestMetrics));
    await second.start();

    for (let i = 0; i < 2; i++) {
      const [port, admin] = [await freePort(), await freePort()];
      const edge = new ManagedProcess(
        `edge-${i + 1}`,
        'apps/edge/src/main.ts',
        {
          ...test.env,
          LOG_LEVEL: 'warn',
          EDGE_PORT: String(port),
          EDGE_ADMIN_PORT: String(admin),
          EDGE_UPSTREAM_URL: `http://127.0.0.1:${upstream.port}`,
        },
        `http://127.0.0.1:${admin}/health`,
      );
      await edge.start();
      (edge as ManagedProcess & { url: string }).url = `http://127.0.0.1:${port}`;
      edges.push(edge);
    }
  });

  afterAll(async () => {
    for (const edge of edges) await edge.stop();
    await second?.onModuleDestroy();
    await app?.close();
    await prisma?.$disconnect();
    await upstream?.close();
    await test?.cleanup();
  });

  it('stores every request answered by either edge exactly once, with both consumers sharing the partitions', async () => {
    const started = new Date();
    let answered = 0;
    const byEdge = [0, 0];
    for (let round = 0; round < 100; round++) {
      await Promise.all(
        tokens.map(async (token, i) => {
          const e = (round + i) % 2;
          const response = await fetch(`${(edges[e] as ManagedProcess & { url: string }).url}/v1/things/${round}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          await response.arrayBuffer();
          expect(response.status).toBe(200);
          answered++;
          byEdge[e]++;
        }),
      );
    }
    expect(answered).toBe(100 * ACCOUNTS);
    expect(byEdge[0]).toBeGreaterThan(0);
    expect(byEdge[1]).toBeGreaterThan(0);

    const reconciliation = app.get(ReconciliationService);
    const report = await waitFor(
      async () => {
        const r = await reconciliation.reconcile({
          from: new Date(started.getTime() - 60_000).toISOString(),
          to: new Date(Date.now() + 60_000).toISOString(),
        });
        return r.consistent && r.pending === 0 && r.totals.stored === answered ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'every answered request stored once' },
    );
    expect(report.totals).toEqual({ kafka: answered, stored: answered, distinct: answered, rollup: answered });

    // Every member of the group owns partitions of request-logs: each consumer runs `members` of them, so both
    // consumers own some.
    const kafka = app.get(KafkaRepository);
    const admin = kafka.admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([kafka.group('usageguard-ingest')]);
    expect(groups[0].members).toHaveLength(2 * DEFAULT_INGEST_OPTIONS.members);
    const owned = groups[0].members.map(
      (m) =>
        Object.values(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}).flat().length,
    );
    expect(owned.every((partitions) => partitions > 0)).toBe(true);
    expect(owned.reduce((a, b) => a + b, 0)).toBe(test.config.kafka.partitions);
    await admin.disconnect();
  });
});
