import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ClickHouseRepository, REQUEST_LOGS_TABLE, REQUEST_ROLLUPS_TABLE } from '@usageguard/clickhouse';
import { CONSUMER_GROUPS, decodeRequestLogLine, requestLogLines, TOPICS } from '@usageguard/contracts';
import { KafkaRepository } from '@usageguard/kafka';
import { DomainError } from '@usageguard/observability';
import type { ReconciliationDifference, ReconciliationReport } from '../dtos/reconciliation.dto';
import { toClickHouseTime } from './request-log-store.service';

const MAX_WINDOW_MS = 7 * 86_400_000;
const SCAN_TIMEOUT_MS = 300_000;

const minuteOf = (ms: number) => toClickHouseTime(new Date(Math.floor(ms / 60_000) * 60_000)).slice(0, 19);

/**
 * Compares, per account × minute of a window, what Kafka accepted (distinct valid events still in the topic's
 * retention) with what ClickHouse holds (raw rows, distinct ids, rollup requests). The topic is read from the start
 * by a throwaway consumer group, so the cost grows with the topic; keep windows inside the topic's retention.
 */
@Injectable()
export class ReconciliationService {
  constructor(
    @Inject(KafkaRepository) private readonly kafka: KafkaRepository,
    @Inject(ClickHouseRepository) private readonly clickhouse: ClickHouseRepository,
  ) {}

  async reconcile(query: { from: string; to: string; accountId?: string }): Promise<ReconciliationReport> {
    // Whole minutes, so the rollups (per minute) and the raw rows cover the same events.
    const from = Math.floor(Date.parse(query.from) / 60_000) * 60_000;
    const to = Math.ceil(Date.parse(query.to) / 60_000) * 60_000;
    if (!(to > from)) throw new DomainError('invalid_window', '`to` must be after `from`', 400);
    if (to - from > MAX_WINDOW_MS) throw new DomainError('window_too_large', 'at most 7 days per reconciliation', 400);

    const pending = await this.pending();
    const { cells: kafkaCells, invalid } = await this.scanKafka(from, to, query.accountId);
    const stored = await this.clickhouseCells(from, to, query.accountId);

    const keys = new Set([...kafkaCells.keys(), ...stored.keys()]);
    const differences: ReconciliationDifference[] = [];
    const totals = { kafka: 0, stored: 0, distinct: 0, rollup: 0 };
    for (const key of [...keys].sort()) {
      const [accountId, minute] = key.split('\u0000');
      const k = kafkaCells.get(key)?.size ?? 0;
      const s = stored.get(key) ?? { stored: 0, distinct: 0, rollup: 0 };
      totals.kafka += k;
      totals.stored += s.stored;
      totals.distinct += s.distinct;
      totals.rollup += s.rollup;
      if (k !== s.stored || k !== s.distinct || k !== s.rollup) {
        differences.push({ accountId, minute, kafka: k, ...s });
      }
    }
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      ...(query.accountId ? { accountId: query.accountId } : {}),
      cells: keys.size,
      totals,
      invalidMessages: invalid,
      pending,
      differences,
      consistent: differences.length === 0,
    };
  }

  /** Distinct event ids per account × minute among the topic's valid events in the window. */
  private async scanKafka(from: number, to: number, accountId?: string) {
    const topic = this.kafka.topic(TOPICS.requestLogs);
    const admin = this.kafka.kafka.admin();
    await admin.connect();
    const ends = new Map<number, number>();
    try {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > Number(p.low)) ends.set(p.partition, Number(p.high));
      }
    } finally {
      await admin.disconnect();
    }
    const cells = new Map<string, Set<string>>();
    let invalid = 0;
    if (ends.size === 0) return { cells, invalid };

    const groupId = `reconcile-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, maxBytesPerPartition: 8 * 1024 * 1024 });
    const remaining = new Set(ends.keys());
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('Kafka scan timed out')), SCAN_TIMEOUT_MS);
        consumer
          .run({
            eachBatch: ({ batch }) => {
              const end = ends.get(batch.partition) ?? 0;
              for (const message of batch.messages) {
                if (Number(message.offset) >= end) break;
                const lines = requestLogLines(message.value);
                if (lines.length === 0) invalid++;
                for (const line of lines) {
                  const parsed = decodeRequestLogLine(line);
                  if (!parsed.ok) {
                    invalid++;
                    continue;
                  }
                  const e = parsed.event;
                  const t = Date.parse(e.ts);
                  if (t < from || t >= to || (accountId !== undefined && e.accountId !== accountId)) continue;
                  const key = `${e.accountId}\u0000${minuteOf(t)}`;
                  let ids = cells.get(key);
                  if (!ids) cells.set(key, (ids = new Set()));
                  ids.add(e.eventId);
                }
              }
              if (Number(batch.lastOffset()) >= end - 1) remaining.delete(batch.partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
              return Promise.resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
      const cleanup = this.kafka.kafka.admin();
      await cleanup.connect();
      await cleanup.deleteGroups([this.kafka.group(groupId)]).catch(() => undefined);
      await cleanup.disconnect();
    }
    return { cells, invalid };
  }

  private async clickhouseCells(from: number, to: number, accountId?: string) {
    const params = {
      from: toClickHouseTime(new Date(from)),
      to: toClickHouseTime(new Date(to)),
      account: accountId ?? '',
    };
    const accountFilter = accountId === undefined ? '' : 'AND account_id = {account:String}';
    const rows = await this.clickhouse.query<{
      account_id: string;
      minute: string;
      stored: string;
      distinct: string;
      rollup: string;
    }>(
      `SELECT account_id, minute, sum(stored) AS stored, sum(distinct) AS distinct, sum(rollup) AS rollup FROM (
         SELECT account_id, toStartOfMinute(ts) AS minute, count() AS stored, uniqExact(event_id) AS distinct,
                toUInt64(0) AS rollup
         FROM ${this.clickhouse.table(REQUEST_LOGS_TABLE)}
         WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} ${accountFilter}
         GROUP BY account_id, minute
         UNION ALL
         SELECT account_id, minute, 0, 0, sum(requests)
         FROM ${this.clickhouse.table(REQUEST_ROLLUPS_TABLE)}
         WHERE minute >= toStartOfMinute({from:DateTime64(3, 'UTC')}) AND minute < {to:DateTime64(3, 'UTC')}
           ${accountFilter}
         GROUP BY account_id, minute
       ) GROUP BY account_id, minute`,
      params,
    );
    return new Map(
      rows.map((r) => [
        `${r.account_id}\u0000${r.minute}`,
        { stored: Number(r.stored), distinct: Number(r.distinct), rollup: Number(r.rollup) },
      ]),
    );
  }

  /** Messages not yet committed by the ingest group. */
  private async pending(): Promise<number> {
    const topic = this.kafka.topic(TOPICS.requestLogs);
    const admin = this.kafka.kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({
        groupId: this.kafka.group(CONSUMER_GROUPS.ingest),
        topics: [topic],
      });
      return ends.reduce((sum, end) => {
        const c = Number(committed.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        return sum + Number(end.high) - (c >= 0 ? c : Number(end.low));
      }, 0);
    } finally {
      await admin.disconnect();
    }
  }
}
