import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClickHouseRepository,
  type QueryParams,
  type RawInsertFormat,
  type RawInsertSettings,
} from '@usageguard/clickhouse';
import { CONSUMER_GROUPS } from '@usageguard/contracts';
import type { KafkaMessage } from '@usageguard/kafka';
import { createTestEnvironment, sleep, type TestEnvironment, waitFor } from '@usageguard/testing';
import { IngestMetrics } from '../../../apps/ingest/src/services/ingest-metrics.service';
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

/**
 * FAULT INJECTION: chDB runs inside this process, so "ClickHouse unavailable" is simulated by this wrapper around the
 * real repository, which fails every call while `down` is set, as a lost connection to a ClickHouse server would.
 */
class FaultInjectingClickHouseRepository extends ClickHouseRepository {
  down = false;
  private check(): void {
    if (this.down) throw new Error('fault injection: ClickHouse unavailable');
  }
  override query<T>(query: string, params?: QueryParams): Promise<T[]> {
    this.check();
    return super.query<T>(query, params);
  }
  override insert<T>(table: string, rows: T[]): Promise<void> {
    this.check();
    return super.insert(table, rows);
  }
  override insertRaw(
    table: string,
    format: RawInsertFormat,
    body: Buffer,
    settings?: RawInsertSettings,
  ): Promise<void> {
    this.check();
    return super.insertRaw(table, format, body, settings);
  }
}

describe('ingest consumer under faults', () => {
  let env: TestEnvironment;
  let ingest: IngestApp;
  let clickhouse: FaultInjectingClickHouseRepository;
  const groupId = () => `${env.config.kafka.topicPrefix}${CONSUMER_GROUPS.ingest}`;
  const topic = () => `${env.config.kafka.topicPrefix}request-logs`;
  const drained = () =>
    waitFor(async () => (await uncommitted(ingest.kafka, groupId(), topic())) === 0, {
      timeoutMs: 60_000,
      what: 'all offsets committed',
    });

  beforeAll(async () => {
    env = await createTestEnvironment({ database: true });
    ingest = await startIngestApp(env, {
      ingest: { batchMaxRows: 500, flushIntervalMs: 20, retryMinMs: 50, retryMaxMs: 200 },
      providers: [{ provide: ClickHouseRepository, useClass: FaultInjectingClickHouseRepository }],
    });
    clickhouse = ingest.clickhouse as FaultInjectingClickHouseRepository;
  });

  afterAll(async () => {
    await deleteTestTopics(ingest.kafka, env.config.kafka.topicPrefix).catch(() => undefined);
    await ingest?.close();
    await env?.cleanup();
  });

  it('pauses while ClickHouse is unavailable, commits nothing, and loses nothing after it returns', async () => {
    await produce(ingest.kafka, asMessages(Array.from({ length: 1_000 }, (_, i) => makeEvent(i))));
    await drained();
    expect((await storedCounts(clickhouse)).rows).toBe(1_000);

    clickhouse.down = true;
    await produce(ingest.kafka, asMessages(Array.from({ length: 2_000 }, (_, i) => makeEvent(1_000 + i))));
    const available = ingest.app.get(IngestMetrics).clickhouseAvailable;
    await waitFor(async () => (await available.get()).values[0]?.value === 0, { what: 'the consumer to pause' });
    await sleep(1_000); // several retries fail meanwhile
    expect(await uncommitted(ingest.kafka, groupId(), topic())).toBe(2_000);

    clickhouse.down = false;
    await drained();
    expect((await available.get()).values[0]?.value).toBe(1);
    expect(await storedCounts(clickhouse)).toEqual({
      rows: 3_000,
      distinctEvents: 3_000,
      rollupRequests: 3_000,
      mismatches: [],
    });
  });

  it('sends poison messages to the dead-letter topic with the reason and original bytes, and goes on', async () => {
    const before = (await storedCounts(clickhouse)).rows;
    const poison = [
      { key: 'acct-x', value: Buffer.from([0xff, 0xfe, 0x00, 0x7b]) },
      { key: 'acct-x', value: '{"v":1,"eventId":"half' },
      { key: 'acct-x', value: JSON.stringify({ ...makeEvent(90_001), status: 999 }) },
      { key: 'acct-x', value: JSON.stringify({ ...makeEvent(90_002), v: 2 }) },
      { key: null, value: null },
      { key: 'acct-x', value: '"just a string"' },
      // One account's events grouped in one message (as the edge sends them), with one broken line among them.
      {
        key: 'acct-x',
        value: [
          JSON.stringify({ ...makeEvent(90_003), accountId: 'acct-x' }),
          '{"v":1,"eventId":"broken',
          JSON.stringify({ ...makeEvent(90_004), accountId: 'acct-x' }),
        ].join('\n'),
      },
    ];
    const valid = asMessages(Array.from({ length: 300 }, (_, i) => makeEvent(10_000 + i)));
    await produce(ingest.kafka, [
      ...valid.slice(0, 100),
      ...poison.slice(0, 3),
      ...valid.slice(100),
      ...poison.slice(3),
    ]);
    await drained();
    expect((await storedCounts(clickhouse)).rows).toBe(before + 302); // 300 + the two good lines of the group

    const deadLetters: KafkaMessage[] = [];
    const reader = ingest.kafka.consumer({ groupId: 'dlq-reader' });
    await reader.connect();
    await reader.subscribe({ topic: ingest.kafka.topic('request-logs.dlq'), fromBeginning: true });
    await reader.run({ eachMessage: ({ message }) => Promise.resolve(void deadLetters.push(message)) });
    await waitFor(() => deadLetters.length >= poison.length, { timeoutMs: 30_000, what: 'dead letters' });
    await sleep(500);
    await reader.disconnect();

    expect(deadLetters).toHaveLength(poison.length);
    // Each poison message once, with its original bytes untouched and the reason it was refused (partitions are
    // consumed concurrently, so the dead letters' order across partitions is not the produce order).
    const expected: [Buffer | string | null, RegExp][] = [
      [poison[0].value, /^invalid JSON/],
      [poison[1].value, /^invalid JSON/],
      [poison[2].value, /status/],
      [poison[3].value, /\bv\b/],
      [poison[4].value, /^empty message$/],
      [poison[5].value, /expected object/],
      ['{"v":1,"eventId":"broken', /^line 2 of 3: invalid JSON/], // the bad line alone, not its whole message
    ];
    for (const [value, reason] of expected) {
      const matches = deadLetters.filter((m) =>
        value === null ? m.value === null || m.value.length === 0 : m.value?.equals(Buffer.from(value)),
      );
      expect(matches, String(value)).toHaveLength(1);
      expect(String(matches[0].headers?.['dlq-reason'])).toMatch(reason);
    }
    for (const m of deadLetters) {
      expect(String(m.headers?.['dlq-source-topic'])).toBe(topic());
      expect(Number(m.headers?.['dlq-source-offset'])).toBeGreaterThanOrEqual(0);
    }
    expect(await ingest.app.get(IngestMetrics).deadLetters.get()).toMatchObject({ values: [{ value: 7 }] });

    // The consumer went on: new events still arrive.
    await produce(ingest.kafka, asMessages([makeEvent(20_000)]));
    await drained();
    expect((await storedCounts(clickhouse)).rows).toBe(before + 303);
  });

  it('stores once an event that JavaScript accepts and ClickHouse refuses as written, and goes on', async () => {
    const before = await storedCounts(clickhouse);
    // Valid JSON and a valid event (JSON.parse keeps the last "eventId"), but ClickHouse's JSON reader refuses a key
    // given twice: the insert of its original bytes fails, the retry sends the event re-serialised.
    const twice = JSON.stringify(makeEvent(30_000)).replace('"eventId":', '"eventId":"decoy","eventId":');
    const odd = [
      twice,
      JSON.stringify(makeEvent(30_001)).replace('"status":200', '"status":200.0'),
      JSON.stringify({ ...makeEvent(30_002), route: '/v1/\ud800' }), // a lone surrogate: valid JSON all the same
      `${JSON.stringify(makeEvent(30_003))}\r`, // a trailing blank
    ];
    const grouped = [makeEvent(30_004), makeEvent(30_005)].map((e) => JSON.stringify(e));
    await produce(ingest.kafka, [
      ...asMessages(Array.from({ length: 200 }, (_, i) => makeEvent(31_000 + i))),
      ...odd.map((value) => ({ key: 'acct-odd', value })),
      { key: 'acct-odd', value: [grouped[0], twice, grouped[1]].join('\n') }, // and again, among good lines
    ]);
    await drained();

    const expected = before.rows + 200 + odd.length + grouped.length;
    expect(await storedCounts(clickhouse)).toEqual({
      rows: expected,
      distinctEvents: expected,
      rollupRequests: expected,
      mismatches: [],
    });
    const ids = await clickhouse.query<{ event_id: string; n: string }>(
      `SELECT event_id, count() AS n FROM ${clickhouse.database}.request_logs
       WHERE event_id IN ('evt-30000', 'decoy') GROUP BY event_id`,
    );
    expect(ids.map((r) => [r.event_id, Number(r.n)])).toEqual([['evt-30000', 1]]);

    // The consumer went on: new events still arrive, and a good insert is sent as the original lines again.
    await produce(ingest.kafka, asMessages([makeEvent(32_000)]));
    await drained();
    expect((await storedCounts(clickhouse)).rows).toBe(expected + 1);
  });
});
