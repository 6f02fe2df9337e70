import { Inject, Injectable } from '@nestjs/common';
import {
  ACCOUNT_BASELINES_TABLE,
  ClickHouseRepository,
  REQUEST_LOGS_TABLE,
  REQUEST_ROLLUPS_TABLE,
} from '@usageguard/clickhouse';

/** Chart ranges: how far back, and the bucket the rollups are summed into (minute, hour or day). */
export const USAGE_RANGES = {
  '6h': { seconds: 6 * 3600, step: 60, unit: 'minute' },
  '48h': { seconds: 48 * 3600, step: 3600, unit: 'hour' },
  '7d': { seconds: 7 * 86_400, step: 3600, unit: 'hour' },
  '28d': { seconds: 28 * 86_400, step: 86_400, unit: 'day' },
} as const;
export type UsageRange = keyof typeof USAGE_RANGES;

export const TOP_RANGES = { '1h': 3600, '24h': 86_400, '7d': 7 * 86_400 } as const;
export type TopRange = keyof typeof TOP_RANGES;

export interface UsagePoint {
  /** Bucket start, ISO. */
  t: string;
  requests: number;
  limited: number;
  errors: number;
}

export interface UsageSeries {
  range: UsageRange;
  unit: 'minute' | 'hour' | 'day';
  from: string;
  to: string;
  points: UsagePoint[];
  /** Expected requests per bucket (low/high), when the analyzer publishes a baseline for the account. */
  baseline: { t: string; low: number; high: number }[] | null;
  baselineNote: string;
}

export interface TopEntry {
  key: string;
  requests: number;
  limited: number;
  errors: number;
}

export interface Overview {
  requestsPerMinute: number;
  limitedShare: number;
  series: { t: string; requests: number; limited: number }[];
  ingest: { lagMsP50: number | null; lastEventAt: string | null; eventsLast10m: number };
}

const num = (value: unknown): number => Number(value ?? 0);

/**
 * Reads usage from ClickHouse for the dashboard: per-account series from the minute rollups (always summed, they
 * are a SummingMergeTree), top routes / tokens / IPs from raw request logs, and the live overview. Every value is a
 * server-side parameter; the account id prefix of both tables' ORDER BY keeps per-account reads to a few granules.
 */
@Injectable()
export class UsageService {
  constructor(@Inject(ClickHouseRepository) private readonly clickhouse: ClickHouseRepository) {}

  async series(accountId: string, range: UsageRange, now = Date.now()): Promise<UsageSeries> {
    const { seconds, step, unit } = USAGE_RANGES[range];
    const end = Math.floor(now / 1000 / step) * step + step; // the current, still filling bucket is included
    const start = end - seconds;
    const baselineQuery = this.baseline(accountId, start, end, step);
    const rows = await this.clickhouse.query<{ t: number; n: string; n_limited: string; n_errors: string }>(
      `SELECT toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond({step:UInt32}))) AS t,
              sum(requests) AS n,
              sumIf(requests, decision != 'allowed') AS n_limited,
              sum(errors) AS n_errors
         FROM ${this.clickhouse.table(REQUEST_ROLLUPS_TABLE)}
        WHERE account_id = {account:String}
          AND minute >= toDateTime({start:UInt32}, 'UTC') AND minute < toDateTime({end:UInt32}, 'UTC')
        GROUP BY t ORDER BY t`,
      { account: accountId, step, start, end },
    );
    const byBucket = new Map(rows.map((r) => [num(r.t), r]));
    const points: UsagePoint[] = [];
    for (let t = start; t < end; t += step) {
      const row = byBucket.get(t);
      points.push({
        t: new Date(t * 1000).toISOString(),
        requests: num(row?.n),
        limited: num(row?.n_limited),
        errors: num(row?.n_errors),
      });
    }
    const baseline = await baselineQuery;
    return {
      range,
      unit,
      from: new Date(start * 1000).toISOString(),
      to: new Date(end * 1000).toISOString(),
      points,
      baseline,
      baselineNote: baseline
        ? "Band: the analyzer's expected range for the account (all operations), scaled to the bucket."
        : 'No baseline yet for this account and window (the analyzer writes one per analyzed hour): usage is shown alone.',
    };
  }

  /**
   * The analyzer's band (docs/analyzer.md): one row per account, operation and hour, in requests per minute;
   * operation '*' is the whole account, and a recomputed hour replaces the older row (argMax on computed_at).
   * Scaled to the chart's bucket: as is for minutes, ×60 for hours, the sum of the day's hours for days.
   */
  private async baseline(
    accountId: string,
    start: number,
    end: number,
    step: number,
  ): Promise<UsageSeries['baseline']> {
    const rows = await this.clickhouse.query<{ h: number; lo: number; hi: number }>(
      `SELECT toUnixTimestamp(hour) AS h, argMax(lower, computed_at) AS lo, argMax(upper, computed_at) AS hi
         FROM ${this.clickhouse.table(ACCOUNT_BASELINES_TABLE)}
        WHERE account_id = {account:String} AND operation = '*'
          AND hour >= toStartOfHour(toDateTime({start:UInt32}, 'UTC')) AND hour < toDateTime({end:UInt32}, 'UTC')
        GROUP BY h ORDER BY h`,
      { account: accountId, start, end },
    );
    if (rows.length === 0) return null;
    const byHour = new Map(rows.map((r) => [num(r.h), { lo: Number(r.lo), hi: Number(r.hi) }]));
    const band: { t: string; low: number; high: number }[] = [];
    for (let t = start; t < end; t += step) {
      let low = 0;
      let high = 0;
      let found = 0;
      for (let h = Math.floor(t / 3600) * 3600; h < Math.max(t + step, Math.floor(t / 3600) * 3600 + 1); h += 3600) {
        const row = byHour.get(h);
        if (!row) continue;
        const minutes = Math.min(step, 3600) / 60;
        low += row.lo * minutes;
        high += row.hi * minutes;
        found++;
      }
      if (found > 0) band.push({ t: new Date(t * 1000).toISOString(), low, high });
    }
    return band;
  }

  async top(
    accountId: string,
    range: TopRange,
    now = Date.now(),
  ): Promise<Record<'routes' | 'tokens' | 'ips', TopEntry[]>> {
    const start = Math.floor(now / 1000) - TOP_RANGES[range];
    // One scan of the account's logs for all three lists (ARRAY JOIN fans each row out to its three keys).
    const rows = await this.clickhouse.query<{
      dim: 'routes' | 'tokens' | 'ips';
      key: string;
      requests: string;
      limited: string;
      errors: string;
    }>(
      `SELECT d.1 AS dim, d.2 AS key, count() AS requests,
              countIf(decision != 'allowed') AS limited, countIf(status >= 500) AS errors
         FROM ${this.clickhouse.table(REQUEST_LOGS_TABLE)}
        ARRAY JOIN [('routes', concat(method, ' ', route)), ('tokens', token_id), ('ips', client_ip)] AS d
        WHERE account_id = {account:String} AND ts >= toDateTime64({start:UInt32}, 3, 'UTC')
        GROUP BY dim, key ORDER BY dim, requests DESC, key LIMIT 10 BY dim`,
      { account: accountId, start },
    );
    const top: Record<'routes' | 'tokens' | 'ips', TopEntry[]> = { routes: [], tokens: [], ips: [] };
    for (const r of rows) {
      top[r.dim].push({ key: r.key, requests: num(r.requests), limited: num(r.limited), errors: num(r.errors) });
    }
    return top;
  }

  async overview(now = Date.now()): Promise<Overview> {
    const currentMinute = Math.floor(now / 60_000) * 60;
    const start = currentMinute - 60 * 60;
    const rows = await this.clickhouse.query<{ t: number; n: string; n_limited: string }>(
      `SELECT toUnixTimestamp(minute) AS t, sum(requests) AS n, sumIf(requests, decision != 'allowed') AS n_limited
         FROM ${this.clickhouse.table(REQUEST_ROLLUPS_TABLE)}
        WHERE minute >= toDateTime({start:UInt32}, 'UTC') AND minute <= toDateTime({end:UInt32}, 'UTC')
        GROUP BY t ORDER BY t`,
      { start, end: currentMinute },
    );
    const byMinute = new Map(rows.map((r) => [num(r.t), r]));
    const series = [];
    for (let t = start; t <= currentMinute; t += 60) {
      const row = byMinute.get(t);
      series.push({ t: new Date(t * 1000).toISOString(), requests: num(row?.n), limited: num(row?.n_limited) });
    }
    // The last five complete minutes: the current minute is still filling.
    const recent = series.slice(-6, -1);
    const total = recent.reduce((s, p) => s + p.requests, 0);
    const limited = recent.reduce((s, p) => s + p.limited, 0);
    const [lag] = await this.clickhouse.query<{ n: string; p50: number | null; last: string | null }>(
      `SELECT count() AS n,
              if(count() = 0, NULL, quantile(0.5)(dateDiff('millisecond', ts, ingested_at))) AS p50,
              if(count() = 0, NULL, toString(max(ts))) AS last
         FROM ${this.clickhouse.table(REQUEST_LOGS_TABLE)}
        WHERE ts >= toDateTime64({start:UInt32}, 3, 'UTC')`,
      { start: Math.floor(now / 1000) - 600 },
    );
    return {
      requestsPerMinute: Math.round(total / 5),
      limitedShare: total === 0 ? 0 : limited / total,
      series,
      ingest: {
        lagMsP50: lag?.p50 === null || lag?.p50 === undefined ? null : Math.round(Number(lag.p50)),
        lastEventAt: lag?.last ? new Date(`${lag.last.replace(' ', 'T')}Z`).toISOString() : null,
        eventsLast10m: num(lag?.n),
      },
    };
  }
}
