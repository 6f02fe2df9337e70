import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseRepository, REQUEST_ROLLUPS_TABLE, type RequestLogRow } from '@usageguard/clickhouse';
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
    expect(await clickhouse.migrate()).toEqual([1, 2, 3, 4]);
    expect(await clickhouse.migrate()).toEqual([]);
    const tables = await clickhouse.query<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
      { db: clickhouse.database },
    );
    expect(tables.map((t) => t.name)).toEqual([
      'account_baselines',
      'ingest_offsets',
      'request_logs',
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

  it('treats a hostile value as data, never as SQL', async () => {
    const hostile = "acct-a' OR 1=1 --";
    const rows = await clickhouse.query<{ c: string }>(
      `SELECT count() AS c FROM ${clickhouse.table('request_logs')} WHERE account_id = {account:String}`,
      { account: hostile },
    );
    expect(Number(rows[0].c)).toBe(0);
  });
});
