import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClickHouseRepository,
  REQUEST_LOGS_INTAKE_SETTINGS,
  REQUEST_LOGS_INTAKE_TABLE,
  REQUEST_ROLLUPS_TABLE,
  type RequestLogRow,
} from '@usageguard/clickhouse';
import { createTestEnvironment, type TestEnvironment } from '@usageguard/testing';

const row = (i: number, overrides: Partial<RequestLogRow> = {}): RequestLogRow => ({
  event_id: `e-${i}`,
  ts: `2026-11-23 10:0${i % 3}:1${i % 10}.000`,
  account_id: i % 2 === 0 ? 'acct-a' : 'acct-b',
  token_id: 'tok-1',
  client_ip: '203.0.113.7',
  method: 'GET',
  route: '/v1/things/:id',
  status: i % 5 === 0 ? 401 : 200,
  latency_ms: 12.5,
  bytes_in: 100,
  bytes_out: 2000,
  operation: 'read',
  decision: 'allowed',
  request_id: `r-${i}`,
  rule: '',
  kafka_partition: 0,
  kafka_offset: i,
  ...overrides,
});

describe('ClickHouse through chDB (real engine, embedded)', () => {
  let env: TestEnvironment;
  let clickhouse: ClickHouseRepository;

  beforeAll(async () => {
    env = await createTestEnvironment();
    clickhouse = new ClickHouseRepository(env.config);
  });

  afterAll(async () => {
    await clickhouse?.onModuleDestroy();
    await env?.cleanup();
  });

  it('applies versioned migrations once', async () => {
    expect(await clickhouse.migrate()).toEqual([1, 2, 3, 4, 5]);
    expect(await clickhouse.migrate()).toEqual([]);
    const tables = await clickhouse.query<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
      { db: clickhouse.database },
    );
    expect(tables.map((t) => t.name)).toEqual([
      'account_baselines',
      'ingest_offsets',
      'request_logs',
      'request_logs_intake',
      'request_logs_intake_mv',
      'request_rollups_1m',
      'request_rollups_1m_mv',
      'schema_migrations',
      'token_ips_1m',
      'token_ips_1m_mv',
      'usage_1h',
    ]);
  });

  it('keeps per-minute rollups through the materialized view, with values bound as parameters', async () => {
    await clickhouse.insert(
      'request_logs',
      Array.from({ length: 30 }, (_, i) => row(i)),
    );
    const rollup = await clickhouse.query<{
      minute: string;
      requests: string;
      auth_failures: string;
      bytes_out: string;
    }>(
      `SELECT minute, sum(requests) AS requests, sum(auth_failures) AS auth_failures, sum(bytes_out) AS bytes_out
       FROM ${clickhouse.table(REQUEST_ROLLUPS_TABLE)}
       WHERE account_id = {account:String}
       GROUP BY minute ORDER BY minute`,
      { account: 'acct-a' },
    );
    // acct-a has the 15 even events, spread over minutes 10:00, 10:01, 10:02 by i % 3.
    expect(rollup.map((r) => r.minute)).toEqual(['2026-11-23 10:00:00', '2026-11-23 10:01:00', '2026-11-23 10:02:00']);
    expect(rollup.reduce((sum, r) => sum + Number(r.requests), 0)).toBe(15);
    expect(rollup.reduce((sum, r) => sum + Number(r.auth_failures), 0)).toBe(3); // i = 0, 10, 20
    expect(rollup.reduce((sum, r) => sum + Number(r.bytes_out), 0)).toBe(15 * 2000);
  });

  it('stores event lines sent raw to the intake table in request_logs and the rollups, converted', async () => {
    // Recent times: request_logs drops rows past the retention TTL as they are written.
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const at = (ms: number) => new Date(minute + ms).toISOString();
    const event = { v: 1, eventId: 'in-1', ts: at(1_500), accountId: 'acct-intake', tokenId: null, clientIp: '::1' };
    const rest = { method: 'GET', route: '/v1/x', latencyMs: 2.5, bytesIn: 1, bytesOut: 2, operation: 'read' };
    const lines = [
      JSON.stringify({ ...event, ...rest, status: 200, decision: 'allowed', requestId: 'r-1' }),
      // The same instant with an offset, an integer written as a float, a rule, numbers in any JSON spelling.
      JSON.stringify({ ...event, eventId: 'in-2', ts: at(2_250).replace('Z', '+00:00'), tokenId: 'tok-9', ...rest })
        .replace('"bytesIn":1', '"bytesIn":1e0')
        .replace(/}$/, ',"status":429.0,"decision":"limited","requestId":"r-2","rule":"per-minute"}'),
    ].map((line, i) => line.replace(/}$/, `,"kafka_partition":3,"kafka_offset":${40 + i}}`));
    await clickhouse.insertRaw(
      REQUEST_LOGS_INTAKE_TABLE,
      'JSONEachRow',
      Buffer.from(lines.join('\n')),
      REQUEST_LOGS_INTAKE_SETTINGS,
    );

    const rows = await clickhouse.query<Record<string, unknown>>(
      `SELECT event_id, ts, token_id, client_ip, status, toUInt32(bytes_in) AS bytes_in, decision, rule, kafka_partition,
              toUInt32(kafka_offset) AS kafka_offset,
              ingested_at > now64(3) - INTERVAL 1 MINUTE AS just_now
       FROM ${clickhouse.table('request_logs')} WHERE account_id = 'acct-intake' ORDER BY event_id`,
    );
    const time = (ms: number) => at(ms).replace('T', ' ').replace('Z', '');
    expect(rows).toEqual([
      {
        event_id: 'in-1',
        ts: time(1_500),
        token_id: '',
        client_ip: '::1',
        status: 200,
        bytes_in: 1,
        decision: 'allowed',
        rule: '',
        kafka_partition: 3,
        kafka_offset: 40,
        just_now: 1,
      },
      {
        event_id: 'in-2',
        ts: time(2_250),
        token_id: 'tok-9',
        client_ip: '::1',
        status: 429,
        bytes_in: 1,
        decision: 'limited',
        rule: 'per-minute',
        kafka_partition: 3,
        kafka_offset: 41,
        just_now: 1,
      },
    ]);
    const [rollup] = await clickhouse.query<{ requests: string }>(
      `SELECT sum(requests) AS requests FROM ${clickhouse.table(REQUEST_ROLLUPS_TABLE)} WHERE account_id = 'acct-intake'`,
    );
    expect(Number(rollup.requests)).toBe(2);
  });

  it('refuses an intake line with a key twice or a key it does not know, instead of guessing', async () => {
    const line = (extra: string) =>
      Buffer.from(
        `{"v":1,"eventId":"bad-1",${extra}"ts":"${new Date().toISOString()}","accountId":"acct-bad","tokenId":null,` +
          '"clientIp":"::1","method":"GET","route":"/","status":200,"latencyMs":1,"bytesIn":1,"bytesOut":1,' +
          '"operation":"read","decision":"allowed","requestId":"r","kafka_partition":0,"kafka_offset":0}',
      );
    const insert = (body: Buffer) =>
      clickhouse.insertRaw(REQUEST_LOGS_INTAKE_TABLE, 'JSONEachRow', body, REQUEST_LOGS_INTAKE_SETTINGS);
    await expect(insert(line('"eventId":"bad-2",'))).rejects.toThrow(/Duplicate field/);
    await expect(insert(line('"extra":"bad-2",'))).rejects.toThrow(/Unknown field/);
    // The body waited in a spool file (the embedded insert reads it FROM INFILE): gone, refused or not.
    expect(readdirSync(path.join(env.config.clickhouse.chdbPath, 'insert-spool'))).toEqual([]);
    const [stored] = await clickhouse.query<{ n: string }>(
      `SELECT count() AS n FROM ${clickhouse.table('request_logs')} WHERE account_id = 'acct-bad'`,
    );
    expect(Number(stored.n)).toBe(0);
  });

  it('refuses a raw insert whose setting name or format is not one, before ClickHouse sees it', async () => {
    const body = Buffer.from('{"v":1}\n');
    await expect(
      clickhouse.insertRaw(REQUEST_LOGS_INTAKE_TABLE, 'JSONEachRow', body, { 'max_threads = 1, readonly': 1 }),
    ).rejects.toThrow(/not a setting name/);
    await expect(
      clickhouse.insertRaw(REQUEST_LOGS_INTAKE_TABLE, 'Native' as 'JSONEachRow', body, REQUEST_LOGS_INTAKE_SETTINGS),
    ).rejects.toThrow(/not a raw insert format/);
  });

  it('treats a hostile value as data, never as SQL', async () => {
    const hostile = "acct-a' OR 1=1 --";
    const rows = await clickhouse.query<{ c: string }>(
      `SELECT count() AS c FROM ${clickhouse.table('request_logs')} WHERE account_id = {account:String}`,
      { account: hostile },
    );
    expect(Number(rows[0].c)).toBe(0);
  });
});
