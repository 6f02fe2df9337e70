import os from 'node:os';
import { ACCOUNT_BASELINES_TABLE, REQUEST_LOGS_TABLE, REQUEST_ROLLUPS_TABLE } from '@usageguard/clickhouse';
import { login, startDashboard, type DashboardHarness } from '../test/integration/dashboard/dashboard-harness';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const chTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (n: number) => Math.round(n * 10) / 10;
const log = (message: string) => process.stderr.write(`[dashboard bench] ${message}\n`);

/** 10,000 customers in Postgres the way the dashboard sees them: a plan, tokens, some flags and restrictions. */
async function writeAccounts(h: DashboardHarness, customers: number, now: number): Promise<string[]> {
  const plan = await h.prisma.plan.create({ data: { key: 'bench', name: 'Bench plan' } });
  const ids: string[] = [];
  for (let start = 0; start < customers; start += 2000) {
    const batch = Array.from({ length: Math.min(2000, customers - start) }, (_, j) => {
      const i = start + j;
      return {
        id: `00000000-0000-4000-a000-${i.toString(16).padStart(12, '0')}`,
        name: `Customer ${i}`,
        externalId: `cus_${i}`,
        planId: plan.id,
      };
    });
    await h.prisma.account.createMany({ data: batch });
    await h.prisma.apiToken.createMany({
      data: batch.flatMap((a) => [
        { accountId: a.id, name: 'production', prefix: `ugk_${a.externalId}p`, secretHash: `${a.id}-p` },
        { accountId: a.id, name: 'staging', prefix: `ugk_${a.externalId}s`, secretHash: `${a.id}-s` },
      ]),
    });
    const flagged = batch.filter((_, j) => (start + j) % 20 === 0);
    await h.prisma.flag.createMany({
      data: flagged.map((a) => ({
        accountId: a.id,
        kind: 'SUSTAINED_EXCESS' as const,
        severity: 'HIGH' as const,
        openKey: `${a.id}:SUSTAINED_EXCESS`,
        score: 4.2,
        summary: '4× its usual rate',
        evidence: { observedPerMinute: 400, bandUpper: 100, topRoutes: [{ route: 'POST /v1/items', requests: 9000 }] },
      })),
    });
    await h.prisma.restriction.createMany({
      data: flagged
        .filter((_, j) => j % 5 === 0)
        .map((a) => ({
          accountId: a.id,
          mode: 'THROTTLE' as const,
          throttleFactor: 0.5,
          reasonCode: 'sustained_excess',
          expiresAt: new Date(now + 6 * HOUR),
        })),
    });
    ids.push(...batch.map((a) => a.id));
  }
  return ids;
}

/**
 * Four weeks of usage written server-side (INSERT … SELECT FROM numbers()): every customer gets minute rollups
 * at one row per 15 minutes for four weeks (the whole population's volume on disk), and the customers the
 * benchmark opens get the full per-minute density for all four weeks on two routes and two decisions, the
 * analyzer's hourly band, and a day of raw request logs (1 row per 20 s) for the top lists.
 */
async function writeUsage(h: DashboardHarness, ids: string[], sample: string[], weeks: number, now: number) {
  const ch = h.clickhouse;
  const end = Math.floor(now / MINUTE) * MINUTE;
  const start = end - weeks * 7 * DAY;
  const rate = (t: string, acc: string) =>
    `(10 + cityHash64(${acc}) % 80) * (1 + 0.5 * sin(2 * pi() * toHour(${t}) / 24 + cityHash64(${acc}) % 6))`;
  const quarterHours = (end - start) / (15 * MINUTE);
  await ch.command(
    `INSERT INTO ${ch.table(REQUEST_ROLLUPS_TABLE)}
     SELECT minute, acc, '/v1/items', 'read', 2, 'allowed', req * 15, 0, 0, req * 3000, req * 30000, req * 375.0
     FROM (
       SELECT {start:DateTime('UTC')} + toIntervalMinute(15 * (number % {slots:UInt32})) AS minute,
              {ids:Array(String)}[intDiv(number, {slots:UInt32}) + 1] AS acc,
              toUInt64(${rate('minute', 'acc')}) AS req
       FROM numbers({rows:UInt64})
     )`,
    { start: chTime(start), slots: quarterHours, ids, rows: ids.length * quarterHours },
  );
  log(`population rollups: ${ids.length * quarterHours} rows`);
  const minutes = (end - start) / MINUTE;
  await ch.command(
    `INSERT INTO ${ch.table(REQUEST_ROLLUPS_TABLE)}
     SELECT minute, acc, r.1, 'write', r.2, r.3, if(r.3 = 'allowed', req, intDiv(req, 9)), 0, 0, req * 200, req * 2000, req * 25.0
     FROM (
       SELECT {start:DateTime('UTC')} + toIntervalMinute(number % {minutes:UInt32}) + 60 AS minute,
              {ids:Array(String)}[intDiv(number, {minutes:UInt32}) + 1] AS acc,
              toUInt64(${rate('minute', 'acc')} * (0.9 + (cityHash64(acc, number) % 20) / 100)) AS req
       FROM numbers({rows:UInt64})
     )
     ARRAY JOIN [('/v1/reports', 2, 'allowed'), ('/v1/reports', 4, 'limited'), ('/v1/items/:id', 2, 'allowed')] AS r`,
    { start: chTime(start), minutes, ids: sample, rows: sample.length * minutes },
  );
  log(`sample rollups: ${sample.length * minutes * 3} rows`);
  const hours = (end - start) / HOUR;
  await ch.command(
    `INSERT INTO ${ch.table(ACCOUNT_BASELINES_TABLE)}
       (hour, account_id, operation, slot, centre, spread, lower, upper, samples, prior_weight)
     SELECT hour, acc, '*', toUInt8(number % 168), c, c * 0.2, c * 0.7, c * 1.3, 28, 0
     FROM (
       SELECT {start:DateTime('UTC')} + toIntervalHour(number % {hours:UInt32}) AS hour,
              {ids:Array(String)}[intDiv(number, {hours:UInt32}) + 1] AS acc,
              number,
              2 * ${rate('hour', 'acc')} AS c
       FROM numbers({rows:UInt64})
     )`,
    { start: chTime(start), hours, ids: sample, rows: sample.length * hours },
  );
  const perDay = 24 * 180;
  await ch.command(
    `INSERT INTO ${ch.table(REQUEST_LOGS_TABLE)}
       (event_id, ts, account_id, token_id, client_ip, method, route, status, latency_ms, bytes_in, bytes_out,
        operation, decision, request_id, rule, kafka_partition, kafka_offset)
     SELECT toString(generateUUIDv4()), {from:DateTime64(3, 'UTC')} + toIntervalSecond(20 * (number % {per:UInt32})),
            acc, concat(acc, if(number % 5 = 0, '-s', '-p')), concat('198.51.100.', toString(number % 37)),
            if(number % 3 = 0, 'GET', 'POST'), if(number % 3 = 0, '/v1/items/:id', '/v1/reports'),
            if(number % 11 = 0, 429, 200), 20, 300, 1200, 'write', if(number % 11 = 0, 'limited', 'allowed'),
            toString(number), '', 0, number
     FROM (SELECT number, {ids:Array(String)}[intDiv(number, {per:UInt32}) + 1] AS acc FROM numbers({rows:UInt64}))`,
    { from: chTime(end - DAY), per: perDay, ids: sample, rows: sample.length * perDay },
  );
  log(`raw logs: ${sample.length * perDay} rows for the sample`);
  // A running installation reads merged parts; right after bulk inserts the merges would run during the
  // measurement and compete with it for the same two cores.
  for (const table of [REQUEST_ROLLUPS_TABLE, ACCOUNT_BASELINES_TABLE, REQUEST_LOGS_TABLE]) {
    await ch.command(`OPTIMIZE TABLE ${ch.table(table)} FINAL`);
  }
  log('parts merged');
}

/**
 * `npm run bench -- dashboard [--customers 10000] [--weeks 4] [--sample 100] [--pages 400]`: the account page's
 * API (GET /api/accounts/:id, …/usage, …/top, requested together as the browser does) over real HTTP with a
 * signed-in session, against 10,000 customers with four weeks of rollups written directly into ClickHouse.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const customers = option(args, 'customers', 10_000);
  const weeks = option(args, 'weeks', 4);
  const sampleSize = Math.min(option(args, 'sample', 100), customers);
  const pages = option(args, 'pages', 400);
  const now = Date.now();

  const h = await startDashboard();
  try {
    let started = Date.now();
    const ids = await writeAccounts(h, customers, now);
    log(`${customers} customers in Postgres in ${Date.now() - started} ms`);
    const sample = Array.from({ length: sampleSize }, (_, i) => ids[Math.floor((i * ids.length) / sampleSize)]);
    started = Date.now();
    await writeUsage(h, ids, sample, weeks, now);
    log(`ClickHouse written in ${Date.now() - started} ms`);
    const [{ rows }] = await h.clickhouse.query<{ rows: string }>(
      `SELECT sum(rows) AS rows FROM system.parts WHERE database = {db:String} AND active`,
      { db: h.clickhouse.database },
    );

    const session = await login(h.url, h.users.VIEWER.email);
    const headers = { cookie: session.cookie };
    const get = async (path: string) => {
      const t0 = performance.now();
      const response = await fetch(`${h.url}${path}`, { headers });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
      return performance.now() - t0;
    };
    const ranges = ['6h', '48h', '7d', '28d'] as const;
    const page = async (i: number) => {
      const id = sample[i % sample.length];
      const range = ranges[i % ranges.length];
      const t0 = performance.now();
      const [detail, usage, top] = await Promise.all([
        get(`/api/accounts/${id}`),
        get(`/api/accounts/${id}/usage?range=${range}`),
        get(`/api/accounts/${id}/top?range=24h`),
      ]);
      return { total: performance.now() - t0, detail, usage, top, range };
    };
    for (let i = 0; i < 20; i++) await page(i);
    // Shared machines: the load during the measurement says how far the figures are from an idle box.
    const loadBefore = os.loadavg()[0];
    const results: Awaited<ReturnType<typeof page>>[] = [];
    started = Date.now();
    for (let i = 0; i < pages; i++) {
      results.push(await page(i + 7));
      if ((i + 1) % 100 === 0) log(`${i + 1}/${pages} page loads`);
    }
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    const totals = sorted(results.map((r) => r.total));
    const byRange = Object.fromEntries(
      ranges.map((range) => [
        range,
        round(percentile(sorted(results.filter((r) => r.range === range).map((r) => r.usage)), 95)),
      ]),
    );
    return {
      customers,
      p50_ms: round(percentile(totals, 50)),
      p95_ms: round(percentile(totals, 95)),
      p99_ms: round(percentile(totals, 99)),
      page_loads: pages,
      sampled_customers: sampleSize,
      weeks,
      clickhouse_rows: Number(rows),
      p95_detail_ms: round(percentile(sorted(results.map((r) => r.detail)), 95)),
      p95_top_ms: round(percentile(sorted(results.map((r) => r.top)), 95)),
      p95_usage_ms_by_range: byRange,
      load_avg_1m: round((loadBefore + os.loadavg()[0]) / 2),
      cores: os.cpus().length,
      data: 'rollups, baselines and raw logs written directly into ClickHouse (no ingest path)',
    };
  } finally {
    await h.close();
  }
}
