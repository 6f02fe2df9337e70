import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadConfig } from '@usageguard/config';
import { decodeRequestLogEvent, eventTime, type RequestLogEvent } from '@usageguard/contracts';
import {
  DEFAULT_REQUEST_LOG_PRODUCER_OPTIONS,
  KafkaRepository,
  RequestLogProducer,
  type RequestLogProducerStats,
  toRequestLogMessage,
} from '@usageguard/kafka';
import { createTestEnvironment, sleep } from '@usageguard/testing';
import type * as ConsumerModule from '../apps/ingest/src/consumers/request-log.consumer';
import type * as MetricsModule from '../apps/ingest/src/services/ingest-metrics.service';
import type * as StoreModule from '../apps/ingest/src/services/request-log-store.service';
import type * as HarnessModule from '../test/integration/ingest/ingest-harness';

/**
 * `npm run bench -- ingest [--events N] [--naive M]`: N events (default 1,000,000) through the edge's producer
 * (RequestLogProducer.enqueue, in a worker thread as an edge is another process) into Kafka, consumed by the ingest
 * consumer group into ClickHouse (chDB) in this thread, until all are visible in the per-minute rollups; lost and
 * duplicated are counted from what ClickHouse holds. Then the naive peer: the same topic → ClickHouse path with one
 * insert per message, on M events (default 5,000).
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const option = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const total = option('events', 1_000_000);
  const naiveTotal = option('naive', 5_000);

  // Loaded here, not at the top: the producer worker loads this file too, and must not load chDB (a native library
  // that crashes when a second thread of the process loads it).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { RequestLogConsumer } = require('../apps/ingest/src/consumers/request-log.consumer') as typeof ConsumerModule;
  const { IngestMetrics } = require('../apps/ingest/src/services/ingest-metrics.service') as typeof MetricsModule;
  const { RequestLogStore, toRequestLogRow } =
    require('../apps/ingest/src/services/request-log-store.service') as typeof StoreModule;
  const { deleteTestTopics, startIngestApp } =
    require('../test/integration/ingest/ingest-harness') as typeof HarnessModule;
  /* eslint-enable @typescript-eslint/no-require-imports */

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const env = await createTestEnvironment({ database: true });
  const ingest = await startIngestApp(env, { ingest: { consume: false } });
  try {
    const { clickhouse, kafka } = ingest;
    const db = clickhouse.database;
    await kafka.ensureTopics();
    const consumer = ingest.app.get(RequestLogConsumer);
    const rollupRequests = async (prefix: string) =>
      Number(
        (
          await clickhouse.query<{ n: string }>(
            `SELECT sum(requests) AS n FROM ${db}.request_rollups_1m WHERE startsWith(account_id, {p:String})`,
            { p: prefix },
          )
        )[0].n,
      );

    // --- the batched pipeline -------------------------------------------------------------------------------
    // A running installation's consumer has long joined its group: the clock starts once it has partitions.
    await consumer.start();
    await consumer.assigned;
    let producedAt = 0;
    let produced = 0;
    let producerStats: RequestLogProducerStats | undefined;
    // The producer plays the edge, which runs with --max-semi-space-size=64 (scripts/start.sh, docker-compose.yml), as
    // this thread does (npm run bench): a worker's young generation is set apart, here to the same size (3 × 64 MB).
    const worker = new Worker(__filename, {
      workerData: { role: 'ingest-producer', env: env.env, total },
      resourceLimits: { maxYoungGenerationSizeMb: 192 },
    });
    let ready!: () => void;
    const workerReady = new Promise<void>((resolve) => (ready = resolve));
    let producerFailed: Error | undefined;
    const producing = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { ready?: boolean; sent: number; stats?: RequestLogProducerStats }) => {
        if (m.ready) return ready();
        produced = m.sent;
        if (m.stats) {
          producerStats = m.stats;
          producedAt = performance.now();
          resolve();
        }
      });
      const fail = (error: Error) => {
        producerFailed = error;
        ready();
        reject(error);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => (code === 0 ? resolve() : fail(new Error(`producer worker exited ${code}`))));
    });
    await workerReady;
    process.stderr.write(`ingest: ${total.toLocaleString('en')} events…\n`);
    const started = performance.now();
    worker.postMessage('go');

    let visible = 0;
    let lastReport = 0;
    while (visible < total && !producerFailed) {
      // Counting is a query on the same embedded ClickHouse: while the producer is still at work not everything can be
      // visible yet, so it is asked rarely; after that, often, for a precise end.
      await sleep(producedAt > 0 ? 50 : 500);
      visible = await rollupRequests('acct-');
      if (performance.now() - lastReport > 2_000) {
        lastReport = performance.now();
        process.stderr.write(`  ${visible.toLocaleString('en')} visible, ${produced.toLocaleString('en')} produced\n`);
      }
      if (producedAt > 0 && performance.now() - producedAt > 120_000) break; // stuck: report what is missing
    }
    await producing;
    const elapsed = (performance.now() - started) / 1_000;
    const [stored] = await clickhouse.query<{ rows: string; distinct: string; p50: number; p99: number }>(
      `SELECT count() AS rows, uniqExact(event_id) AS distinct,
              quantileExact(0.5)(dateDiff('millisecond', ts, ingested_at)) AS p50,
              quantileExact(0.99)(dateDiff('millisecond', ts, ingested_at)) AS p99
       FROM ${db}.request_logs WHERE startsWith(account_id, 'acct-')`,
    );
    const flushSeconds = (await ingest.app.get(IngestMetrics).flushSeconds.get()).values.find((v) =>
      v.metricName?.endsWith('_sum'),
    )?.value;
    const stats = producerStats ?? { shed: Number.NaN, sendErrors: Number.NaN };

    // --- the naive peer: one insert per message -----------------------------------------------------------------
    process.stderr.write(`naive: ${naiveTotal.toLocaleString('en')} events, one insert each…\n`);
    const naiveTopic = kafka.topic('naive-request-logs');
    await kafka.ensureTopics([{ topic: naiveTopic, partitions: env.config.kafka.partitions }]);
    const store = ingest.app.get(RequestLogStore);
    const naiveStarted = performance.now();
    const naiveProducer = kafka.producer();
    await naiveProducer.connect();
    const naiveConsumer = kafka.consumer({ groupId: 'naive-ingest' });
    await naiveConsumer.connect();
    await naiveConsumer.subscribe({ topic: naiveTopic, fromBeginning: true });
    await naiveConsumer.run({
      eachMessage: async ({ message, partition }) => {
        const parsed = decodeRequestLogEvent(message.value);
        if (parsed.ok) await store.insert([toRequestLogRow(parsed.event, partition, Number(message.offset))]);
      },
    });
    for (let i = 0; i < naiveTotal; i += 1_000) {
      const events = Array.from({ length: Math.min(1_000, naiveTotal - i) }, (_, j) => benchEvent(i + j, 'naive-'));
      await naiveProducer.send({ topic: naiveTopic, acks: -1, messages: events.map(toRequestLogMessage) });
    }
    while ((await rollupRequests('naive-')) < naiveTotal) await sleep(100);
    const naiveElapsed = (performance.now() - naiveStarted) / 1_000;
    await naiveConsumer.disconnect();

    const rows = Number(stored.rows);
    const distinct = Number(stored.distinct);
    const eventsPerSecond = Math.round(total / elapsed);
    const naivePerSecond = Math.round(naiveTotal / naiveElapsed);
    return {
      events: total,
      events_per_s: eventsPerSecond,
      produce_per_s: Math.round(total / ((producedAt - started) / 1_000)),
      insert_per_s: flushSeconds ? Math.round(rows / flushSeconds) : null,
      p50_delay_ms: Number(stored.p50),
      p99_delay_ms: Number(stored.p99),
      lost: total - distinct,
      duplicated: rows - distinct,
      shed: stats.shed,
      producer_send_errors: stats.sendErrors,
      peak_rss_mb: Math.round(peakRss / 1024 / 1024),
      naive_events: naiveTotal,
      naive_events_per_s: naivePerSecond,
      ratio_vs_naive: Math.round((eventsPerSecond / naivePerSecond) * 10) / 10,
    };
  } finally {
    clearInterval(sampler);
    await deleteTestTopics(ingest.kafka, env.config.kafka.topicPrefix).catch(() => undefined);
    await ingest.close();
    await env.cleanup();
  }
}

const ROUTES = ['/v1/contacts', '/v1/contacts/:id', '/v1/messages', '/v1/search', '/v1/auth/token'] as const;

/**
 * Event i of the run: 1,000 accounts, timestamped when produced (as the edge spells it) so the delay to storage is
 * measurable.
 */
function benchEvent(i: number, accountPrefix: string): RequestLogEvent {
  return {
    v: 1,
    eventId: `${accountPrefix}${i}`,
    ts: eventTime(Date.now()),
    accountId: `${accountPrefix}${i % 1_000}`,
    tokenId: `tok-${i % 3_000}`,
    clientIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    method: i % 5 === 0 ? 'POST' : 'GET',
    route: ROUTES[i % ROUTES.length],
    status: i % 50 === 0 ? 429 : 200,
    latencyMs: i % 97,
    bytesIn: i % 512,
    bytesOut: i % 4096,
    operation: i % 5 === 0 ? 'write' : 'read',
    decision: i % 50 === 0 ? 'limited' : 'allowed',
    requestId: `req-${i}`,
  };
}

/** The producer side of the run, in its own thread: the edge's RequestLogProducer, fed as fast as it accepts. */
async function producerWorker(data: { env: Record<string, string>; total: number }): Promise<void> {
  const kafka = new KafkaRepository(loadConfig(data.env));
  const producer = new RequestLogProducer(kafka);
  await kafka.ensureTopics();
  const go = new Promise((resolve) => parentPort!.once('message', resolve));
  parentPort!.postMessage({ ready: true, sent: 0 });
  await go;
  // An edge hands events over as its requests finish, so its producer holds about a batch filling while one is in
  // flight; this feeds it as fast as it takes them while holding no more than that (2 × batchSize, far under the
  // producer's bound: a benchmark that sheds would count them as lost). Letting 80,000 wait instead only made them
  // outlive young-generation collections: about 0.6 s more of the producer's CPU per 1,000,000 events.
  const room = 2 * DEFAULT_REQUEST_LOG_PRODUCER_OPTIONS.batchSize;
  for (let i = 0; i < data.total; i++) {
    if ((i & 1023) === 0) {
      while (producer.stats().queued + producer.stats().inFlight > room) await sleep(1);
      if ((i & 16383) === 0) parentPort!.postMessage({ sent: producer.stats().sent });
    }
    producer.enqueue(benchEvent(i, 'acct-'));
  }
  await producer.flush();
  parentPort!.postMessage({ sent: producer.stats().sent, stats: producer.stats() });
  await producer.onModuleDestroy();
  await kafka.onModuleDestroy();
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'ingest-producer') {
  producerWorker(workerData as { env: Record<string, string>; total: number }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
