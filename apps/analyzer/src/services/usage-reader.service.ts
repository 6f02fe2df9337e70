import { Inject, Injectable } from '@nestjs/common';
import {
  ACCOUNT_BASELINES_TABLE,
  type AccountBaselineRow,
  ClickHouseRepository,
  REQUEST_LOGS_TABLE,
  REQUEST_ROLLUPS_TABLE,
  TOKEN_IPS_TABLE,
  USAGE_HOURLY_TABLE,
} from '@usageguard/clickhouse';
import { z } from 'zod';

/** ClickHouse DateTime parameters and values: 'YYYY-MM-DD hh:mm:ss' in UTC. */
export const chTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** '*' is the account's total over every operation class. */
export const ALL_OPERATIONS = '*';

const num = z.coerce.number();
const minuteSeriesSchema = z.object({
  account_id: z.string(),
  op: z.string(),
  points: z.array(z.tuple([num, num, num, num])),
});
const hourSamplesSchema = z.object({
  account_id: z.string(),
  op: z.string(),
  samples: z.array(z.tuple([num, num, num, num, num])),
});
const tokenIpsSchema = z.object({ account_id: z.string(), token_id: z.string(), ips: num });
const tokenNormalSchema = z.object({ account_id: z.string(), token_id: z.string(), normal: num });
const topSchema = z.object({ account_id: z.string(), kind: z.string(), value: z.string(), requests: num });

export interface MinutePoint {
  minute: number;
  requests: number;
  limited: number;
  authFailures: number;
}

export interface HourPoint {
  hour: number;
  perMinute: number;
  p90PerMinute: number;
  requests: number;
  authFailures: number;
}

/** Per account, per operation ('*' included): the points found (absent minutes and hours had no traffic). */
export type ByAccount<T> = Map<string, Map<string, T[]>>;

function group<T>(rows: { account_id: string; key: string; values: T[] }[]): ByAccount<T> {
  const out: ByAccount<T> = new Map();
  for (const row of rows) {
    let byKey = out.get(row.account_id);
    if (!byKey) out.set(row.account_id, (byKey = new Map<string, T[]>()));
    byKey.set(row.key, row.values);
  }
  return out;
}

export interface TopLists {
  routes: { value: string; requests: number }[];
  tokens: { value: string; requests: number }[];
  ips: { value: string; requests: number }[];
}

/**
 * The analyzer's reads and writes in ClickHouse. Queries aggregate server-side and return one row per account ×
 * series with the points as arrays, so a 10,000-account shard moves tens of thousands of rows, not millions.
 */
@Injectable()
export class UsageReaderService {
  /** Closed hours known to be in usage_1h: asked once per process, not every cycle. */
  private readonly compacted = new Set<number>();

  constructor(@Inject(ClickHouseRepository) private readonly clickhouse: ClickHouseRepository) {}

  /**
   * Per-minute requests, limited responses and 401/403 over [from, to) of each account: its total ('*'), each
   * operation class, and each listed route ('route:<path>'), in one scan of the minute rollups.
   */
  async recentUsage(accountIds: string[], routes: string[], from: number, to: number): Promise<ByAccount<MinutePoint>> {
    const rows = await this.clickhouse.query<unknown>(
      `SELECT account_id, op, groupArray((toUnixTimestamp(minute), r, l, a)) AS points
       FROM (
         SELECT account_id,
                arrayJoin(arrayConcat([toString(operation), '*'],
                          if(route IN {routes:Array(String)}, [concat('route:', toString(route))], []))) AS op,
                minute, sum(requests) AS r, sumIf(requests, decision = 'limited') AS l, sum(auth_failures) AS a
         FROM ${this.clickhouse.table(REQUEST_ROLLUPS_TABLE)}
         WHERE account_id IN {ids:Array(String)} AND minute >= {from:DateTime('UTC')} AND minute < {to:DateTime('UTC')}
         GROUP BY account_id, op, minute
       )
       GROUP BY account_id, op`,
      { ids: accountIds, routes, from: chTime(from), to: chTime(to) },
    );
    return group(
      rows.map((raw) => {
        const row = minuteSeriesSchema.parse(raw);
        return {
          account_id: row.account_id,
          key: row.op,
          values: row.points.map(([t, requests, limited, authFailures]) => ({
            minute: t * 1000,
            requests,
            limited,
            authFailures,
          })),
        };
      }),
    );
  }

  /**
   * Compacts closed hours of request_rollups_1m into usage_1h (total, per operation class, per route, with the
   * hour's 90th-percentile minute; absent minutes count as zero). Idempotent: a recompacted hour replaces its rows.
   */
  async compactHours(hours: number[]): Promise<void> {
    if (hours.length === 0) return;
    await this.clickhouse.command(
      `INSERT INTO ${this.clickhouse.table(USAGE_HOURLY_TABLE)}
         (hour, account_id, kind, key, requests, auth_failures, limited, p90_per_minute)
       SELECT toStartOfHour(minute) AS hour, account_id, kind, key, sum(mr), sum(ma), sum(ml),
              arrayReduce('quantileExact(0.9)', arrayResize(groupArray(mr), 60, toUInt64(0)))
       FROM (
         SELECT account_id, minute, k.1 AS kind, k.2 AS key,
                sum(requests) AS mr, sum(auth_failures) AS ma, sumIf(requests, decision = 'limited') AS ml
         FROM ${this.clickhouse.table(REQUEST_ROLLUPS_TABLE)}
         ARRAY JOIN [('total', '*'), ('operation', toString(operation)), ('route', toString(route))] AS k
         WHERE minute >= {from:DateTime('UTC')} AND minute < {to:DateTime('UTC')}
           AND toStartOfHour(minute) IN {hours:Array(DateTime('UTC'))}
         GROUP BY account_id, minute, kind, key
       )
       GROUP BY hour, account_id, kind, key`,
      {
        hours: hours.map(chTime),
        from: chTime(Math.min(...hours)),
        to: chTime(Math.max(...hours) + 3_600_000),
      },
    );
    for (const hour of hours) this.compacted.add(hour);
  }

  /** The listed hours that usage_1h holds nothing for (never compacted, or without any traffic). */
  async uncompactedHours(hours: number[]): Promise<number[]> {
    hours = hours.filter((h) => !this.compacted.has(h));
    if (hours.length === 0) return [];
    const rows = await this.clickhouse.query<{ hour: number }>(
      `SELECT DISTINCT toUnixTimestamp(hour) AS hour FROM ${this.clickhouse.table(USAGE_HOURLY_TABLE)}
       WHERE hour IN {hours:Array(DateTime('UTC'))}`,
      { hours: hours.map(chTime) },
    );
    const present = new Set(rows.map((r) => Number(r.hour) * 1000));
    for (const hour of present) this.compacted.add(hour);
    return hours.filter((h) => !present.has(h));
  }

  /**
   * Training rows from usage_1h in one read: the listed hours of each account's total ('*') and operation classes
   * (mean per-minute rate, 90th-percentile minute, requests, 401/403), and the listed routes ('route:<path>') over
   * [routeFrom, routeTo).
   */
  async trainingUsage(
    accountIds: string[],
    hours: number[],
    routes: string[],
    routeFrom: number,
    routeTo: number,
  ): Promise<ByAccount<HourPoint>> {
    if (hours.length === 0 && routes.length === 0) return new Map();
    const rows = await this.clickhouse.query<unknown>(
      `SELECT account_id, op,
              groupArray((toUnixTimestamp(hour), requests / 60, p90_per_minute, requests, auth_failures)) AS samples
       FROM (
         SELECT account_id, multiIf(kind = 'total', '*', kind = 'route', concat('route:', key), key) AS op,
                hour, requests, p90_per_minute, auth_failures
         FROM ${this.clickhouse.table(USAGE_HOURLY_TABLE)} FINAL
         WHERE account_id IN {ids:Array(String)}
           AND ((kind IN ('total', 'operation') AND hour IN {hours:Array(DateTime('UTC'))})
             OR (kind = 'route' AND key IN {routes:Array(String)}
                 AND hour >= {routeFrom:DateTime('UTC')} AND hour < {routeTo:DateTime('UTC')}))
       )
       GROUP BY account_id, op`,
      { ids: accountIds, hours: hours.map(chTime), routes, routeFrom: chTime(routeFrom), routeTo: chTime(routeTo) },
    );
    return group(
      rows.map((raw) => {
        const row = hourSamplesSchema.parse(raw);
        return {
          account_id: row.account_id,
          key: row.op,
          values: row.samples.map(([t, perMinute, p90PerMinute, requests, authFailures]) => ({
            hour: t * 1000,
            perMinute,
            p90PerMinute,
            requests,
            authFailures,
          })),
        };
      }),
    );
  }

  /** Distinct IPs per token over [from, to), only tokens with at least minIps (the others cannot flag). */
  async tokenIps(
    accountIds: string[],
    from: number,
    to: number,
    minIps: number,
  ): Promise<{ accountId: string; tokenId: string; ips: number }[]> {
    const rows = await this.clickhouse.query<unknown>(
      `SELECT account_id, token_id, uniqMerge(ips) AS ips
       FROM ${this.clickhouse.table(TOKEN_IPS_TABLE)}
       WHERE account_id IN {ids:Array(String)} AND minute >= {from:DateTime('UTC')} AND minute < {to:DateTime('UTC')}
       GROUP BY account_id, token_id
       HAVING ips >= {min:UInt32}`,
      { ids: accountIds, from: chTime(from), to: chTime(to), min: minIps },
    );
    return rows.map((raw) => {
      const row = tokenIpsSchema.parse(raw);
      return { accountId: row.account_id, tokenId: row.token_id, ips: row.ips };
    });
  }

  /** A token's usual distinct IPs per hour: the 90th percentile over the trailing days before `before`. */
  async tokenNormalIps(
    tokens: { accountId: string; tokenId: string }[],
    before: number,
    days: number,
  ): Promise<Map<string, number>> {
    if (tokens.length === 0) return new Map();
    const rows = await this.clickhouse.query<unknown>(
      `SELECT account_id, token_id, quantileExact(0.9)(h) AS normal
       FROM (
         SELECT account_id, token_id, toStartOfHour(minute) AS hour, uniqMerge(ips) AS h
         FROM ${this.clickhouse.table(TOKEN_IPS_TABLE)}
         WHERE account_id IN {ids:Array(String)} AND token_id IN {tokens:Array(String)}
           AND minute >= {from:DateTime('UTC')} AND minute < {to:DateTime('UTC')}
         GROUP BY account_id, token_id, hour
       )
       GROUP BY account_id, token_id`,
      {
        ids: [...new Set(tokens.map((t) => t.accountId))],
        tokens: [...new Set(tokens.map((t) => t.tokenId))],
        from: chTime(before - days * 86_400_000),
        to: chTime(before),
      },
    );
    return new Map(
      rows.map((raw) => {
        const row = tokenNormalSchema.parse(raw);
        return [`${row.account_id}:${row.token_id}`, row.normal];
      }),
    );
  }

  /** The top routes, tokens and client IPs of each listed account over [from, to), from the raw logs. */
  async topLists(accountIds: string[], from: number, to: number, limit = 5): Promise<Map<string, TopLists>> {
    const out = new Map<string, TopLists>();
    if (accountIds.length === 0) return out;
    const logs = this.clickhouse.table(REQUEST_LOGS_TABLE);
    const where = `account_id IN {ids:Array(String)} AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}`;
    const rows = await this.clickhouse.query<unknown>(
      `SELECT account_id, kind, value, requests FROM (
         SELECT account_id, 'routes' AS kind, concat(toString(method), ' ', toString(route)) AS value, count() AS requests
         FROM ${logs} WHERE ${where} GROUP BY account_id, value ORDER BY requests DESC LIMIT {limit:UInt32} BY account_id
         UNION ALL
         SELECT account_id, 'tokens' AS kind, token_id AS value, count() AS requests
         FROM ${logs} WHERE ${where} GROUP BY account_id, value ORDER BY requests DESC LIMIT {limit:UInt32} BY account_id
         UNION ALL
         SELECT account_id, 'ips' AS kind, client_ip AS value, count() AS requests
         FROM ${logs} WHERE ${where} GROUP BY account_id, value ORDER BY requests DESC LIMIT {limit:UInt32} BY account_id
       ) ORDER BY account_id, kind, requests DESC`,
      { ids: accountIds, from: chTime(from), to: chTime(to), limit },
    );
    for (const raw of rows) {
      const row = topSchema.parse(raw);
      let top = out.get(row.account_id);
      if (!top) out.set(row.account_id, (top = { routes: [], tokens: [], ips: [] }));
      if (row.kind === 'routes' || row.kind === 'tokens' || row.kind === 'ips') {
        top[row.kind].push({ value: row.value, requests: row.requests });
      }
    }
    return out;
  }

  async writeBaselines(rows: AccountBaselineRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 50_000) {
      await this.clickhouse.insert(ACCOUNT_BASELINES_TABLE, rows.slice(i, i + 50_000));
    }
  }
}
