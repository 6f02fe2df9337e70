import type { INestApplication, ModuleMetadata, Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { APP_CONFIG } from '@usageguard/config';
import { ClickHouseModule, ClickHouseRepository } from '@usageguard/clickhouse';
import type { RequestLogEvent } from '@usageguard/contracts';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { KafkaModule, KafkaRepository } from '@usageguard/kafka';
import { ConfigModule } from '@usageguard/config';
import { configureHttpApp, ObservabilityModule, probe } from '@usageguard/observability';
import type { TestEnvironment } from '@usageguard/testing';
import { configureIngestBodyParsers } from '../../../apps/ingest/src/ingest.http';
import { IngestModule } from '../../../apps/ingest/src/ingest.module';
import { INGEST_OPTIONS, type IngestOptions } from '../../../apps/ingest/src/ingest.options';

/** A valid v1 event; `i` makes the id unique, accounts and minutes spread so rollups have several keys. */
export function makeEvent(i: number, overrides: Partial<RequestLogEvent> = {}): RequestLogEvent {
  // Recent: request_logs drops rows past the retention TTL as they are written.
  const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
  return {
    v: 1,
    eventId: `evt-${i}`,
    ts: new Date(base + (i % 600) * 1_000 + (i % 7)).toISOString(),
    accountId: `acct-${i % 5}`,
    tokenId: i % 3 === 0 ? null : `tok-${i % 4}`,
    clientIp: `10.0.${i % 200}.${i % 250}`,
    method: i % 4 === 0 ? 'POST' : 'GET',
    route: `/v1/things/:id`,
    status: i % 10 === 0 ? 429 : 200,
    latencyMs: (i % 50) + 0.5,
    bytesIn: i % 1000,
    bytesOut: (i * 7) % 5000,
    operation: i % 4 === 0 ? 'write' : 'read',
    decision: i % 10 === 0 ? 'limited' : 'allowed',
    requestId: `req-${i}`,
    ...overrides,
  };
}

export interface IngestApp {
  app: INestApplication;
  url: string;
  clickhouse: ClickHouseRepository;
  kafka: KafkaRepository;
  prisma: PrismaRepository;
  close(): Promise<void>;
}

/** The ingest app as main.ts composes it, on this test's isolated config, listening on port 0. */
export async function startIngestApp(
  env: TestEnvironment,
  options: { ingest?: Partial<IngestOptions>; providers?: Provider[]; override?: (m: ModuleMetadata) => void } = {},
): Promise<IngestApp> {
  let builder = Test.createTestingModule({
    imports: [
      ConfigModule,
      ObservabilityModule.forRoot({
        app: 'ingest-test',
        probes: {
          inject: [KafkaRepository, ClickHouseRepository],
          useFactory: (kafka: KafkaRepository, clickhouse: ClickHouseRepository) => [
            probe('kafka', kafka, 5000),
            probe('clickhouse', clickhouse),
          ],
        },
      }),
      DatabaseModule,
      KafkaModule,
      ClickHouseModule,
      IngestModule,
    ],
  })
    .overrideProvider(APP_CONFIG)
    .useValue(env.config)
    .overrideProvider(INGEST_OPTIONS)
    .useValue(options.ingest ?? {});
  for (const provider of options.providers ?? []) {
    const p = provider as {
      provide: unknown;
      useValue?: unknown;
      useClass?: new (...args: never[]) => unknown;
      useFactory?: (...args: never[]) => unknown;
      inject?: unknown[];
    };
    if (p.useClass) builder = builder.overrideProvider(p.provide).useClass(p.useClass);
    else if (p.useFactory) {
      builder = builder
        .overrideProvider(p.provide)
        .useFactory({ factory: p.useFactory, inject: (p.inject ?? []) as never[] });
    } else builder = builder.overrideProvider(p.provide).useValue(p.useValue);
  }
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ bufferLogs: false, logger: ['error', 'warn'] });
  configureHttpApp(app);
  configureIngestBodyParsers(app);
  await app.listen(0, '127.0.0.1');
  return {
    app,
    url: await app.getUrl(),
    clickhouse: app.get(ClickHouseRepository),
    kafka: app.get(KafkaRepository),
    prisma: app.get(PrismaRepository),
    close: () => app.close(),
  };
}

export interface StoredCounts {
  rows: number;
  distinctEvents: number;
  rollupRequests: number;
  /** account|minute → [request_logs rows, rollup requests] where they differ. */
  mismatches: string[];
}

/** What the analyzer and dashboard would read: raw rows, distinct ids, and the rollups, per account × minute. */
export async function storedCounts(clickhouse: ClickHouseRepository): Promise<StoredCounts> {
  const db = clickhouse.database;
  const [totals] = await clickhouse.query<{ rows: string; distinct_events: string }>(
    `SELECT count() AS rows, uniqExact(event_id) AS distinct_events FROM ${db}.request_logs`,
  );
  const [rollup] = await clickhouse.query<{ requests: string }>(
    `SELECT sum(requests) AS requests FROM ${db}.request_rollups_1m`,
  );
  const mismatches = await clickhouse.query<{ account_id: string; minute: string; logs: string; rollup: string }>(
    `SELECT account_id, minute, l.n AS logs, r.n AS rollup
     FROM (SELECT account_id, toStartOfMinute(ts) AS minute, count() AS n FROM ${db}.request_logs GROUP BY ALL) AS l
     FULL OUTER JOIN (SELECT account_id, minute, sum(requests) AS n FROM ${db}.request_rollups_1m GROUP BY ALL) AS r
     USING (account_id, minute)
     WHERE l.n != r.n`,
  );
  return {
    rows: Number(totals.rows),
    distinctEvents: Number(totals.distinct_events),
    rollupRequests: Number(rollup.requests),
    mismatches: mismatches.map((m) => `${m.account_id}|${m.minute}: ${m.logs} vs ${m.rollup}`),
  };
}

/** Sum of the ingest group's committed offsets minus the topic's end offsets: 0 when everything is committed. */
export async function uncommitted(kafka: KafkaRepository, groupId: string, topic: string): Promise<number> {
  const admin = kafka.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let behind = 0;
    for (const end of ends) {
      const c = committed.partitions.find((p) => p.partition === end.partition);
      const at = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(end.low);
      behind += Number(end.high) - at;
    }
    return behind;
  } finally {
    await admin.disconnect();
  }
}

/** Produces events straight to the topic (acks=-1), as the edge's producer would. */
export async function produce(
  kafka: KafkaRepository,
  messages: { key: string | null; value: Buffer | string | null }[],
): Promise<void> {
  const producer = kafka.producer({}, { selfManaged: true });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 5_000) {
      await producer.send({ topic: kafka.topic('request-logs'), acks: -1, messages: messages.slice(i, i + 5_000) });
    }
  } finally {
    await producer.disconnect();
  }
}

export const asMessages = (events: RequestLogEvent[]) =>
  events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) }));

/** Removes this test's topics and consumer groups from the shared broker (only names under its own prefix). */
export async function deleteTestTopics(kafka: KafkaRepository, prefix: string): Promise<void> {
  if (!prefix.startsWith('t-')) throw new Error(`refusing to delete topics outside a test prefix: ${prefix}`);
  const admin = kafka.kafka.admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the group's committed offsets over all partitions (grows as flushes commit). */
export async function committedTotal(kafka: KafkaRepository, groupId: string, topic: string): Promise<number> {
  const admin = kafka.kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return committed.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
