import { Inject, Injectable } from '@nestjs/common';
import {
  ClickHouseRepository,
  INGEST_OFFSETS_TABLE,
  REQUEST_LOGS_TABLE,
  type RequestLogRow,
} from '@usageguard/clickhouse';
import type { RequestLogEvent } from '@usageguard/contracts';

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

/** request_logs columns in the order of toRequestLogValues(). */
export const REQUEST_LOG_COLUMNS = [
  'event_id',
  'ts',
  'account_id',
  'token_id',
  'client_ip',
  'method',
  'route',
  'status',
  'latency_ms',
  'bytes_in',
  'bytes_out',
  'operation',
  'decision',
  'request_id',
  'rule',
  'kafka_partition',
  'kafka_offset',
] as const satisfies readonly (keyof RequestLogRow)[];

/** The row of toRequestLogRow() as an array in REQUEST_LOG_COLUMNS order (the consumer's compact insert). */
export function toRequestLogValues(event: RequestLogEvent, partition: number, offset: number): unknown[] {
  return [
    event.eventId,
    toClickHouseTime(event.ts),
    event.accountId,
    event.tokenId ?? '',
    event.clientIp,
    event.method,
    event.route,
    event.status,
    event.latencyMs,
    event.bytesIn,
    event.bytesOut,
    event.operation,
    event.decision,
    event.requestId,
    event.rule ?? '',
    partition,
    offset,
  ];
}

/** Ids per lookup query: keeps the parameter list well under a server's URI limit. */
const LOOKUP_CHUNK = 10_000;

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
   * Which of these events are already stored. A duplicate is the same event sent again (a producer retry, an HTTP
   * client retrying after a timeout), so it has the same account and timestamp: the lookup is bounded by both,
   * which lets the primary key (account_id, ts, …) and the event-id bloom filter skip almost everything.
   */
  async existingEventIds(events: readonly RequestLogEvent[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let start = 0; start < events.length; start += LOOKUP_CHUNK) {
      const chunk = events.slice(start, start + LOOKUP_CHUNK);
      let lo = Infinity;
      let hi = -Infinity;
      for (const e of chunk) {
        const t = Date.parse(e.ts);
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
      const rows = await this.clickhouse.query<{ event_id: string }>(
        `SELECT DISTINCT event_id FROM ${this.clickhouse.table(REQUEST_LOGS_TABLE)}
         WHERE account_id IN {accounts:Array(String)}
           AND ts BETWEEN {lo:DateTime64(3, 'UTC')} AND {hi:DateTime64(3, 'UTC')}
           AND event_id IN {ids:Array(String)}`,
        {
          accounts: [...new Set(chunk.map((e) => e.accountId))],
          lo: toClickHouseTime(new Date(lo)),
          hi: toClickHouseTime(new Date(hi)),
          ids: chunk.map((e) => e.eventId),
        },
      );
      for (const r of rows) found.add(r.event_id);
    }
    return found;
  }

  async insert(rows: RequestLogRow[]): Promise<void> {
    await this.clickhouse.insert(REQUEST_LOGS_TABLE, rows);
  }

  /** Rows from toRequestLogValues(). */
  async insertValues(rows: unknown[][]): Promise<void> {
    await this.clickhouse.insertCompact(REQUEST_LOGS_TABLE, REQUEST_LOG_COLUMNS, rows);
  }
}
