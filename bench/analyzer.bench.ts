import {
  REQUEST_ROLLUPS_TABLE,
  TOKEN_IPS_TABLE,
  USAGE_HOURLY_TABLE,
  type ClickHouseRepository,
} from '@usageguard/clickhouse';
import { startAnalyzerApp } from './scenarios/analyzer-app';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const chTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

const accountId = (i: number) => `00000000-0000-4000-a000-${i.toString(16).padStart(12, '0')}`;

/**
 * Writes the benchmark's usage server-side (INSERT … SELECT FROM numbers()), since four weeks of raw logs for
 * 10,000 accounts do not fit this machine: four weeks of hourly usage rows (usage_1h: total, operation, and a
 * license route for one account in ten), the last two hours as per-minute rollups (request_rollups_1m), and token
 * IP states for those two hours. One account in a hundred turns abusive (×6) for the last 40 minutes.
 */
async function writeUsage(clickhouse: ClickHouseRepository, ids: string[], windowEnd: number, weeks: number) {
  const minuteStart = windowEnd - 2 * HOUR;
  const hourStart = minuteStart - weeks * 7 * 24 * HOUR;
  const hours = (minuteStart - hourStart) / HOUR;
  // Per-account base rate and daily shape from a hash of its id; deterministic.
  const rate = (t: string, acc: string) =>
    `(10 + cityHash64(${acc}) % 80) * (1 + 0.5 * sin(2 * pi() * toHour(${t}) / 24 + cityHash64(${acc}) % 6))` +
    ` * if(toDayOfWeek(${t}) >= 6, 0.7, 1)`;
  await clickhouse.command(
    `INSERT INTO ${clickhouse.table(USAGE_HOURLY_TABLE)}
       (hour, account_id, kind, key, requests, auth_failures, limited, p90_per_minute)
     SELECT hour, acc, k.1, k.2, if(k.1 = 'route', toUInt64(60), req), toUInt64(req / 200), 0, req / 60 * 1.3
     FROM (
       SELECT {start:DateTime('UTC')} + toIntervalHour(number % {hours:UInt32}) AS hour,
              {ids:Array(String)}[intDiv(number, {hours:UInt32}) + 1] AS acc,
              toUInt64(60 * ${rate('hour', 'acc')}) AS req
       FROM numbers({rows:UInt64})
     )
     ARRAY JOIN if(cityHash64(acc) % 10 = 0,
                   [('total', '*'), ('operation', 'read'), ('route', '/v1/licenses/validate')],
                   [('total', '*'), ('operation', 'read')]) AS k`,
    { start: chTime(hourStart), hours, ids, rows: ids.length * hours },
  );
  await clickhouse.command(
    `INSERT INTO ${clickhouse.table(REQUEST_ROLLUPS_TABLE)}
     SELECT minute, acc, '/v1/items', 'read', 2, 'allowed', req, 0, 0, req * 200, req * 2000, req * 25.0
     FROM (
       SELECT {start:DateTime('UTC')} + toIntervalMinute(number % 120) AS minute,
              {ids:Array(String)}[intDiv(number, 120) + 1] AS acc,
              toUInt64(${rate('minute', 'acc')} * (0.9 + (cityHash64(acc, number) % 20) / 100)
                * if(cityHash64(acc) % 100 = 7 AND minute >= {abuse:DateTime('UTC')}, 6, 1)) AS req
       FROM numbers({rows:UInt64})
     )`,
    { start: chTime(minuteStart), ids, rows: ids.length * 120, abuse: chTime(windowEnd - 40 * MINUTE) },
  );
  await clickhouse.command(
    `INSERT INTO ${clickhouse.table(TOKEN_IPS_TABLE)}
     SELECT minute, acc, concat('tok-', acc), toUInt64(2), uniqState(ip)
     FROM (
       SELECT {start:DateTime('UTC')} + toIntervalMinute(intDiv(number, 2) % 120) AS minute,
              {ids:Array(String)}[intDiv(number, 240) + 1] AS acc,
              concat('198.51.100.', toString(number % 2)) AS ip
       FROM numbers({rows:UInt64})
     )
     GROUP BY minute, acc`,
    { start: chTime(minuteStart), ids, rows: ids.length * 240 },
  );
}

/**
 * `npm run bench -- analyzer [--customers 10000] [--weeks 4] [--shards 1]`: one full analyzer cycle over the
 * customers, with their baselines trained on four weeks of history. With --shards N the shards run concurrently, as
 * one process's workers would; embedded chDB runs one query at a time, so in local mode more shards only add scans.
 * Reports the first cycle (which opens the abusive accounts' flags) and a second one a minute later.
 */
export async function run(args: string[]): Promise<Record<string, unknown>> {
  const customers = option(args, 'customers', 10_000);
  const weeks = option(args, 'weeks', 4);
  const shards = option(args, 'shards', 1);
  const windowEnd = Math.floor(Date.now() / HOUR) * HOUR;
  const app = await startAnalyzerApp();
  try {
    let started = Date.now();
    const plan = await app.prisma.plan.create({ data: { key: 'bench', name: 'Bench', priorPerMinute: 30 } });
    const ids = Array.from({ length: customers }, (_, i) => accountId(i));
    for (let i = 0; i < ids.length; i += 5000) {
      await app.prisma.account.createMany({
        data: ids.slice(i, i + 5000).map((id, j) => ({
          id,
          name: `bench ${i + j}`,
          planId: plan.id,
          createdAt: new Date(windowEnd - (weeks * 7 + 2) * 24 * HOUR),
        })),
      });
    }
    await writeUsage(app.clickhouse, ids, windowEnd, weeks);
    console.error(
      `setup: ${customers} accounts, ${weeks} weeks of hourly usage rows + 2 h of minute rollups written directly ` +
        `(not through request_logs) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    const cycle = async (end: number) => {
      const t = Date.now();
      const results = await Promise.all(
        Array.from({ length: shards }, (_, shard) => app.analyzer.analyze({ windowEnd: new Date(end), shard, shards })),
      );
      const seconds = (Date.now() - t) / 1000;
      const analyzed = results.reduce((n, r) => n + r.accounts, 0);
      const opened = results.reduce((n, r) => n + r.counts.open, 0);
      return { seconds, analyzed, opened, baselines: results.reduce((n, r) => n + r.baselines, 0) };
    };
    started = Date.now();
    const first = await cycle(windowEnd);
    console.error(`cycle 1: ${first.analyzed} accounts, ${first.opened} flags opened in ${first.seconds.toFixed(2)} s`);
    const second = await cycle(windowEnd + MINUTE);
    console.error(`cycle 2: ${second.analyzed} accounts in ${second.seconds.toFixed(2)} s`);
    return {
      customers,
      cycle_s: Math.round(first.seconds * 100) / 100,
      second_cycle_s: Math.round(second.seconds * 100) / 100,
      weeks,
      shards,
      flags_opened: first.opened,
      baseline_rows: first.baselines,
      data: 'hourly usage rows and 2 h of minute rollups written directly into ClickHouse, not through request_logs',
    };
  } finally {
    await app.close();
  }
}
