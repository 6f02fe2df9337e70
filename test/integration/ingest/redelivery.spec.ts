import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_GROUPS } from '@usageguard/contracts';
import { RequestLogProducer } from '@usageguard/kafka';
import { createTestEnvironment, type TestEnvironment, waitFor } from '@usageguard/testing';
import { RequestLogConsumer as RequestLogConsumerToken } from '../../../apps/ingest/src/consumers/request-log.consumer';
import {
  asMessages,
  deleteTestTopics,
  type IngestApp,
  makeEvent,
  produce,
  startIngestApp,
  storedCounts,
  uncommitted,
} from './ingest-harness';

// The events of makeEvent() are stamped within the last two hours. Each way the consumer can know an event is stored:
// its recent-events index (loaded from ClickHouse when it starts, then kept), a lookup in ClickHouse (events older
// than the index), and both in one flush (an index bounded below the number of stored events).
const ways = [
  { way: 'looked up in ClickHouse', index: { recentIdsWindowMs: 60_000 } },
  { way: 'remembered by the recent-events index', index: { recentIdsWindowMs: 6 * 3_600_000 } },
  { way: 'partly remembered, partly looked up', index: { recentIdsWindowMs: 6 * 3_600_000, recentIdsMax: 2_000 } },
];

describe.each(ways)('ingest consumer: redelivery never changes a count (stored events $way)', ({ index }) => {
  let env: TestEnvironment;
  let ingest: IngestApp | undefined;
  const events = Array.from({ length: 3_000 }, (_, i) => makeEvent(i));

  beforeAll(async () => {
    env = await createTestEnvironment({ database: true });
  });

  afterAll(async () => {
    if (ingest) await deleteTestTopics(ingest.kafka, env.config.kafka.topicPrefix).catch(() => undefined);
    await ingest?.close();
    await env?.cleanup();
  });

  const groupId = () => `${env.config.kafka.topicPrefix}${CONSUMER_GROUPS.ingest}`;
  const topic = () => `${env.config.kafka.topicPrefix}request-logs`;

  async function drained(app: IngestApp) {
    await waitFor(async () => (await uncommitted(app.kafka, groupId(), topic())) === 0, {
      timeoutMs: 60_000,
      what: 'all offsets committed',
    });
  }

  async function resetGroupToEarliest(app: IngestApp) {
    const admin = app.kafka.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: groupId(), topic: topic(), earliest: true });
    await admin.disconnect();
  }

  it('stores every event once, then ignores a full redelivery, a re-formed batch and the same events re-sent', async () => {
    ingest = await startIngestApp(env, { ingest: { ...index, batchMaxRows: 1_000, flushIntervalMs: 20 } });
    await produce(ingest.kafka, asMessages(events));
    await drained(ingest);
    const first = await storedCounts(ingest.clickhouse);
    expect(first).toEqual({ rows: 3_000, distinctEvents: 3_000, rollupRequests: 3_000, mismatches: [] });

    // 1. The whole topic redelivered (offsets reset, as after a lost commit), with different batch boundaries:
    //    skipped by the stored per-partition watermark.
    await ingest.close();
    ingest = undefined;
    const restarted = await startIngestApp(env, {
      ingest: { ...index, batchMaxRows: 7, flushIntervalMs: 5, consume: false },
    });
    ingest = restarted;
    await resetGroupToEarliest(restarted);
    await restarted.app.get(RequestLogConsumerToken).start();
    await drained(restarted);
    expect(await storedCounts(restarted.clickhouse)).toEqual(first);

    // 2. The watermark lost (a crash between the rows' insert and the watermark's): the event-id check alone holds.
    await restarted.close();
    ingest = await startIngestApp(env, { ingest: { ...index, batchMaxRows: 333, flushIntervalMs: 5, consume: false } });
    await ingest.clickhouse.command(`TRUNCATE TABLE ${ingest.clickhouse.database}.ingest_offsets`);
    await resetGroupToEarliest(ingest);
    await ingest.app.get(RequestLogConsumerToken).start();
    await drained(ingest);
    expect(await storedCounts(ingest.clickhouse)).toEqual(first);

    // 3. The same events produced again at new offsets (an HTTP client retrying, a producer re-sending), plus new ones.
    const more = Array.from({ length: 500 }, (_, i) => makeEvent(3_000 + i));
    await produce(ingest.kafka, asMessages([...events.slice(0, 1_000), ...more, ...more.slice(0, 100)]));
    await drained(ingest);
    expect(await storedCounts(ingest.clickhouse)).toEqual({
      rows: 3_500,
      distinctEvents: 3_500,
      rollupRequests: 3_500,
      mismatches: [],
    });

    // 4. Events grouped per account in multi-event messages, as the edge's producer sends them: stored events sent
    //    again in groups count nothing, new events in the same groups count once.
    const grouped = new RequestLogProducer(ingest.kafka);
    const newest = Array.from({ length: 200 }, (_, i) => makeEvent(4_000 + i));
    await grouped.send([...events.slice(500, 1_500), ...newest]);
    await grouped.send(newest);
    await grouped.onModuleDestroy();
    await drained(ingest);
    expect(await storedCounts(ingest.clickhouse)).toEqual({
      rows: 3_700,
      distinctEvents: 3_700,
      rollupRequests: 3_700,
      mismatches: [],
    });

    // 5. A kill -9 between a flush's raw part and its materialized-view part (ClickHouse commits them separately):
    //    the rows are stored, their rollups are not, and the watermark was never written. Simulated by removing two
    //    accounts' rollups and the watermark; the redelivery skips the stored rows and puts the rollups back.
    await ingest.close();
    ingest = await startIngestApp(env, { ingest: { ...index, batchMaxRows: 500, flushIntervalMs: 5, consume: false } });
    const db = ingest.clickhouse.database;
    await ingest.clickhouse.command(
      `ALTER TABLE ${db}.request_rollups_1m DELETE WHERE account_id IN ('acct-1', 'acct-3')`,
      {},
      { mutations_sync: '1' },
    );
    await ingest.clickhouse.command(`TRUNCATE TABLE ${db}.ingest_offsets`);
    expect((await storedCounts(ingest.clickhouse)).rollupRequests).toBeLessThan(3_700);
    await resetGroupToEarliest(ingest);
    await ingest.app.get(RequestLogConsumerToken).start();
    await drained(ingest);
    expect(await storedCounts(ingest.clickhouse)).toEqual({
      rows: 3_700,
      distinctEvents: 3_700,
      rollupRequests: 3_700,
      mismatches: [],
    });
  });
});
