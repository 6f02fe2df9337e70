import { connect } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { CONSUMER_GROUPS, type RequestLogEvent } from '@usageguard/contracts';
import { issueSecret } from '@usageguard/domain';
import { KafkaRepository } from '@usageguard/kafka';
import {
  createTestEnvironment,
  startTcpProxy,
  type TcpProxy,
  type TestEnvironment,
  waitFor,
} from '@usageguard/testing';
import { INGEST_HTTP_LIMITS } from '../../../apps/ingest/src/ingest.options';
import {
  deleteTestTopics,
  type IngestApp,
  makeEvent,
  startIngestApp,
  storedCounts,
  uncommitted,
} from './ingest-harness';

describe('POST /v1/ingest/logs', () => {
  let env: TestEnvironment;
  let proxy: TcpProxy;
  let ingest: IngestApp;
  let key: string;
  let revokedKey: string;

  beforeAll(async () => {
    env = await createTestEnvironment({ database: true });
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(env.config.kafka.brokers[0].split(':')[1]) });
    // Kafka tells clients to reach the broker at its advertised address; this sends every connection, bootstrap and
    // broker alike, through the proxy so that cut() is a real outage for this app only.
    const socketFactory: ISocketFactory = ({ onConnect }) => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port }, onConnect);
      socket.setKeepAlive(true, 30_000);
      return socket;
    };
    ingest = await startIngestApp(env, {
      ingest: { publishTimeoutMs: 4_000, batchMaxRows: 1_000, flushIntervalMs: 20 },
      providers: [
        {
          provide: KafkaRepository,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => new KafkaRepository(config, { socketFactory, retry: { retries: 2 } }),
        },
      ],
    });
    const live = issueSecret('ingest');
    const revoked = issueSecret('ingest');
    await ingest.prisma.ingestKey.create({ data: { name: 'gateway', prefix: live.prefix, secretHash: live.hash } });
    await ingest.prisma.ingestKey.create({
      data: { name: 'old', prefix: revoked.prefix, secretHash: revoked.hash, revokedAt: new Date() },
    });
    key = live.secret;
    revokedKey = revoked.secret;
  });

  afterAll(async () => {
    proxy?.restore();
    await deleteTestTopics(ingest.kafka, env.config.kafka.topicPrefix).catch(() => undefined);
    await ingest?.close();
    await proxy?.close();
    await env?.cleanup();
  });

  const post = (body: string, contentType = 'application/json', secret: string | null = key) =>
    fetch(`${ingest.url}/v1/ingest/logs`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(secret === null ? {} : { authorization: `Bearer ${secret}` }) },
      body,
    });
  const drained = () =>
    waitFor(
      async () =>
        (await uncommitted(
          ingest.kafka,
          `${env.config.kafka.topicPrefix}${CONSUMER_GROUPS.ingest}`,
          ingest.kafka.topic('request-logs'),
        )) === 0,
      { timeoutMs: 60_000, what: 'all offsets committed' },
    );

  it('refuses calls without a valid, unrevoked ingest key', async () => {
    const body = JSON.stringify([makeEvent(1)]);
    expect((await post(body, 'application/json', null)).status).toBe(401);
    expect((await post(body, 'application/json', 'ug_ingest_not-a-key')).status).toBe(401);
    const revoked = await post(body, 'application/json', revokedKey);
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toMatchObject({ statusCode: 401, code: 'invalid_ingest_key' });
  });

  it('accepts a JSON array and NDJSON with 202 after Kafka acknowledged, and stores them', async () => {
    const array = await post(JSON.stringify([makeEvent(1), makeEvent(2)]));
    expect(array.status).toBe(202);
    expect(await array.json()).toEqual({ accepted: 2 });
    const ndjson = await post(
      `${JSON.stringify(makeEvent(3))}\n\n${JSON.stringify(makeEvent(4))}\n`,
      'application/x-ndjson',
    );
    expect(ndjson.status).toBe(202);
    expect(await ndjson.json()).toEqual({ accepted: 2 });
    await drained();
    expect((await storedCounts(ingest.clickhouse)).rows).toBe(4);
  });

  it('answers 400 with the index and reason of every invalid event, and accepts none of them', async () => {
    const bad: [keyof RequestLogEvent | 'extra', unknown][] = [
      ['v', 3],
      ['eventId', ''],
      ['ts', 'yesterday'],
      ['accountId', 'has space'],
      ['tokenId', 42],
      ['clientIp', '999.1.1.1'],
      ['method', 'FETCH'],
      ['route', 'no-leading-slash'],
      ['status', 700],
      ['latencyMs', -1],
      ['bytesIn', 1.5],
      ['bytesOut', 'many'],
      ['operation', 'delete-everything'],
      ['decision', 'maybe'],
      ['requestId', 'x'.repeat(200)],
      ['rule', 7],
      ['extra', 'unknown field'],
    ];
    const events: unknown[] = bad.map(([field, value], i) => ({ ...makeEvent(100 + i), [field]: value }));
    const { accountId: _dropped, ...missing } = makeEvent(200);
    events.push(missing, makeEvent(201));
    const response = await post(JSON.stringify(events));
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      statusCode: number;
      code: string;
      details: { invalid: { index: number; reason: string }[] };
    };
    expect(body).toMatchObject({ statusCode: 400, code: 'invalid_events' });
    expect(body.details.invalid.map((e) => e.index)).toEqual([...bad.map((_, i) => i), bad.length]);
    bad.forEach(([field], i) => {
      const reason = body.details.invalid[i].reason;
      expect(reason, `event ${i} (${field})`).toContain(field === 'extra' ? 'extra' : `${field}:`);
    });
    expect(body.details.invalid[bad.length].reason).toContain('accountId');

    const ndjson = await post(
      `${JSON.stringify(makeEvent(300))}\n{"v":1,\n${JSON.stringify(makeEvent(301))}`,
      'application/x-ndjson',
    );
    expect(ndjson.status).toBe(400);
    expect(((await ndjson.json()) as typeof body).details.invalid).toEqual([
      { index: 1, reason: expect.stringMatching(/^invalid JSON/) as unknown },
    ]);
    expect((await post('{"not":"an array"}')).status).toBe(400);
    expect((await post('[]')).status).toBe(400);
    await drained();
    expect((await storedCounts(ingest.clickhouse)).rows).toBe(4); // nothing from the rejected calls
  });

  it('answers 413 above the documented maximum of events or bytes', async () => {
    const tooMany = await post(JSON.stringify(Array.from({ length: INGEST_HTTP_LIMITS.maxEvents + 1 }, () => ({}))));
    expect(tooMany.status).toBe(413);
    expect(await tooMany.json()).toMatchObject({ code: 'too_many_events' });
    const tooBig = await post(`[${'"x",'.repeat(INGEST_HTTP_LIMITS.maxBodyBytes / 4)}"x"]`);
    expect(tooBig.status).toBe(413);
  });

  it('answers 503 while Kafka is unavailable, and loses nothing it acknowledged', async () => {
    const acknowledged: RequestLogEvent[] = [];
    const batch = (from: number) => Array.from({ length: 50 }, (_, i) => makeEvent(from + i));
    for (const from of [1_000, 1_050]) {
      const events = batch(from);
      expect((await post(JSON.stringify(events))).status).toBe(202);
      acknowledged.push(...events);
    }

    proxy.cut();
    const refused = batch(2_000);
    const during = await post(JSON.stringify(refused));
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('5');
    expect(await during.json()).toMatchObject({ statusCode: 503, code: 'kafka_unavailable' });
    proxy.restore();

    // The gateway retries what was refused (some of it may have reached Kafka anyway: dedup handles that).
    await waitFor(async () => (await post(JSON.stringify(refused))).status === 202, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'Kafka to accept again',
    });
    acknowledged.push(...refused);
    await drained();
    const counts = await storedCounts(ingest.clickhouse);
    expect(counts).toEqual({ rows: 4 + 150, distinctEvents: 4 + 150, rollupRequests: 4 + 150, mismatches: [] });
    const stored = await ingest.clickhouse.query<{ event_id: string }>(
      `SELECT event_id FROM ${ingest.clickhouse.database}.request_logs WHERE event_id IN {ids:Array(String)}`,
      { ids: acknowledged.map((e) => e.eventId) },
    );
    expect(stored).toHaveLength(acknowledged.length);
  });
});
