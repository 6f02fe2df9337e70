import { Inject, Injectable } from '@nestjs/common';
import {
  ClickHouseRepository,
  INGEST_OFFSETS_TABLE,
  REQUEST_LOGS_INTAKE_SETTINGS,
  REQUEST_LOGS_INTAKE_TABLE,
  REQUEST_LOGS_TABLE,
  REQUEST_ROLLUPS_TABLE,
  type RequestLogRow,
} from '@usageguard/clickhouse';
import type { RequestLogEvent } from '@usageguard/contracts';
import type { IntakeBody } from './intake-body';
import { RecentEventIds } from './recent-event-ids';

/** ClickHouse's DateTime64(3) text form, always UTC. */
export const toClickHouseTime = (iso: string | Date): string =>
  (typeof iso === 'string' ? new Date(iso) : iso).toISOString().replace('T', ' ').replace('Z', '');

export function toRequestLogRow(event: RequestLogEvent, partition: number, offset: number): RequestLogRow {
  return {
    event_id: event.eventId,
    ts: toClickHouseTime(event.ts),
    account_id: event.accountId,
    token_id: event.tokenId ?? '',
    client_ip: event.clientIp,
    method: event.method,
    route: event.route,
    status: event.status,
    latency_ms: event.latencyMs,
    bytes_in: event.bytesIn,
    bytes_out: event.bytesOut,
    operation: event.operation,
    decision: event.decision,
    request_id: event.requestId,
    rule: event.rule ?? '',
    kafka_partition: partition,
    kafka_offset: offset,
  };
}

/** Ids per lookup query: keeps the parameter list well under a server's URI limit. */
const LOOKUP_CHUNK = 10_000;

/**
 * The earliest and latest event time, epoch ms. A validated time of 24 characters ending in `Z` can only be
 * `YYYY-MM-DDTHH:MM:SS.sssZ` (what every edge sends), whose text order is its time order: those are compared as text
 * and only their extremes parsed; other spellings (offsets, other precisions) are parsed one by one.
 */
function timeRange(events: readonly RequestLogEvent[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  let loText = '';
  let hiText = '';
  for (const { ts } of events) {
    if (ts.length === 24 && ts.charCodeAt(23) === 90) {
      if (loText === '' || ts < loText) loText = ts;
      if (ts > hiText) hiText = ts;
    } else {
      const t = Date.parse(ts);
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
  }
  if (loText !== '') {
    lo = Math.min(lo, Date.parse(loText));
    hi = Math.max(hi, Date.parse(hiText));
  }
  return [lo, hi];
}

/** Where the ingest consumer stores request logs and its per-partition progress, and how it finds what is stored. */
@Injectable()
export class RequestLogStore {
  constructor(@Inject(ClickHouseRepository) private readonly clickhouse: ClickHouseRepository) {}

  /** The highest offset per partition whose flush is fully stored; partitions never stored are absent. */
  async watermarks(topic: string): Promise<Map<number, number>> {
    const rows = await this.clickhouse.query<{ partition: number; offset: string }>(
      `SELECT partition, max(offset) AS offset FROM ${this.clickhouse.table(INGEST_OFFSETS_TABLE)}
       WHERE topic = {topic:String} GROUP BY partition`,
      { topic },
    );
    return new Map(rows.map((r) => [Number(r.partition), Number(r.offset)]));
  }

  async saveWatermarks(topic: string, offsets: Map<number, number>): Promise<void> {
    await this.clickhouse.insert(
      INGEST_OFFSETS_TABLE,
      [...offsets].map(([partition, offset]) => ({ topic, partition, offset })),
    );
  }

  /**
   * The index of stored events whose time is at or after `since` (epoch seconds; no upper bound, so events stamped in
   * the future are in), complete from its horizon on. When more than `maxIds` are stored since then, the horizon is
   * the newest second that keeps the index within 90 % of `maxIds`: older events are left to existingEventIds().
   */
  async loadRecentEventIds(since: number, maxIds: number): Promise<RecentEventIds> {
    const table = this.clickhouse.table(REQUEST_LOGS_TABLE);
    const perSecond = await this.clickhouse.query<{ s: number; n: string }>(
      `SELECT toUnixTimestamp(ts) AS s, count() AS n FROM ${table}
       WHERE ts >= toDateTime64({since:UInt32}, 3, 'UTC') GROUP BY s ORDER BY s DESC`,
      { since },
    );
    let horizon = since;
    let total = 0;
    for (const { s, n } of perSecond) {
      if (total + Number(n) > maxIds * 0.9) {
        horizon = Number(s) + 1;
        break;
      }
      total += Number(n);
    }
    const index = new RecentEventIds(horizon, maxIds);
    if (total === 0) return index;
    const rows = await this.clickhouse.query<[string, number]>(
      `SELECT event_id, toUnixTimestamp(ts) FROM ${table} WHERE ts >= toDateTime64({horizon:UInt32}, 3, 'UTC')`,
      { horizon },
      'JSONCompactEachRow',
    );
    for (const [id, second] of rows) index.addLoaded(id, Number(second));
    return index;
  }

  /**
   * Which of these events are already stored. A duplicate is the same event sent again (a producer retry, an HTTP
   * client retrying after a timeout), so it has the same account and timestamp: the lookup is bounded by both,
   * which lets the primary key (account_id, ts, …) and the event-id bloom filter skip almost everything.
   */
  async existingEventIds(events: readonly RequestLogEvent[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let start = 0; start < events.length; start += LOOKUP_CHUNK) {
      const chunk = events.slice(start, start + LOOKUP_CHUNK);
      const [lo, hi] = timeRange(chunk);
      // The lists go as one space-separated string each, split by ClickHouse: a validated id has no spaces, and
      // reading one string is far cheaper than parsing an array of 10,000 literals.
      const rows = await this.clickhouse.query<{ event_id: string }>(
        `SELECT DISTINCT event_id FROM ${this.clickhouse.table(REQUEST_LOGS_TABLE)}
         WHERE account_id IN (SELECT arrayJoin(splitByChar(' ', {accounts:String})))
           AND ts BETWEEN {lo:DateTime64(3, 'UTC')} AND {hi:DateTime64(3, 'UTC')}
           AND event_id IN (SELECT arrayJoin(splitByChar(' ', {ids:String})))`,
        {
          accounts: [...new Set(chunk.map((e) => e.accountId))].join(' '),
          lo: toClickHouseTime(new Date(lo)),
          hi: toClickHouseTime(new Date(hi)),
          ids: chunk.map((e) => e.eventId).join(' '),
        },
      );
      for (const r of rows) found.add(r.event_id);
    }
    return found;
  }

  /**
   * Puts back into the per-minute rollups what the raw rows of these events' account-minutes hold beyond them, and
   * returns how many requests that added. The rollups are written by a materialized view as part of each insert,
   * but ClickHouse commits the raw part and the view's part separately: a kill -9 between the two leaves raw rows
   * whose rollup never comes, and their redelivery is rightly skipped as already stored. The consumer calls this
   * whenever a flush meets events already stored (a crash window, or a client re-sending), so such a gap is mended
   * by the next delivery of the same messages. Only additions: the view never over-counts, so a rollup above its
   * raw rows cannot come from this gap.
   */
  async repairRollups(events: readonly RequestLogEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const [lo, hi] = timeRange(events);
    const params = {
      accounts: [...new Set(events.map((e) => e.accountId))],
      lo: toClickHouseTime(new Date(Math.floor(lo / 60_000) * 60_000)),
      hi: toClickHouseTime(new Date(Math.floor(hi / 60_000) * 60_000 + 60_000)),
    };
    const key = 'minute, account_id, route, operation, status_class, decision';
    const sums = ['requests', 'auth_failures', 'errors', 'bytes_in', 'bytes_out', 'latency_ms_sum'];
    const missing = `
      SELECT ${key}, ${sums.map((c) => `raw.${c} - rolled.${c} AS ${c}`).join(', ')}
      FROM (
        SELECT toStartOfMinute(ts) AS minute, account_id, route, operation,
               toUInt8(intDiv(status, 100)) AS status_class, decision,
               count() AS requests, countIf(status IN (401, 403)) AS auth_failures, countIf(status >= 500) AS errors,
               sum(bytes_in) AS bytes_in, sum(bytes_out) AS bytes_out, sum(toFloat64(latency_ms)) AS latency_ms_sum
        FROM ${this.clickhouse.table(REQUEST_LOGS_TABLE)}
        WHERE account_id IN {accounts:Array(String)}
          AND ts >= {lo:DateTime64(3, 'UTC')} AND ts < {hi:DateTime64(3, 'UTC')}
        GROUP BY ${key}
      ) AS raw
      LEFT JOIN (
        SELECT ${key}, ${sums.map((c) => `sum(${c}) AS ${c}`).join(', ')}
        FROM ${this.clickhouse.table(REQUEST_ROLLUPS_TABLE)}
        WHERE account_id IN {accounts:Array(String)}
          AND minute >= toStartOfMinute({lo:DateTime64(3, 'UTC')}) AND minute < {hi:DateTime64(3, 'UTC')}
        GROUP BY ${key}
      ) AS rolled USING (${key})
      WHERE raw.requests > rolled.requests`;
    const [gap] = await this.clickhouse.query<{ n: string }>(`SELECT sum(requests) AS n FROM (${missing})`, params);
    const added = Number(gap?.n ?? 0);
    if (added > 0) {
      await this.clickhouse.command(
        `INSERT INTO ${this.clickhouse.table(REQUEST_ROLLUPS_TABLE)} (${key}, ${sums.join(', ')}) ${missing}`,
        params,
      );
    }
    return added;
  }

  async insert(rows: RequestLogRow[]): Promise<void> {
    await this.clickhouse.insert(REQUEST_LOGS_TABLE, rows);
  }

  /**
   * Stores a body's events in request_logs through the intake table (one INSERT). A retry of an insert ClickHouse
   * refused builds its body with every event as JSON.stringify spells it (IntakeBody.addEvent) instead of its original
   * bytes, since a line JavaScript accepted may still be one ClickHouse's JSON reader refuses (a duplicate key, for
   * one).
   */
  async insertIntakeBody(body: IntakeBody): Promise<void> {
    if (body.rows === 0) return;
    await this.clickhouse.insertRaw(
      REQUEST_LOGS_INTAKE_TABLE,
      'JSONEachRow',
      body.bytes(),
      REQUEST_LOGS_INTAKE_SETTINGS,
    );
  }
}
