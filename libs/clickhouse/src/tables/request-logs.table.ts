import { z } from 'zod';

/**
 * Raw request logs, one row per accepted event. Ordered for per-account time scans; partitioned by day so the
 * retention TTL drops whole parts. kafka_partition/kafka_offset record where each row came from, which lets the
 * ingest consumer resume exactly after the last row it stored.
 */
export const REQUEST_LOGS_TABLE = 'request_logs';

export const requestLogsDdl = (db: string, retentionDays: number) => `
CREATE TABLE IF NOT EXISTS ${db}.${REQUEST_LOGS_TABLE}
(
    event_id        String,
    ts              DateTime64(3, 'UTC'),
    account_id      String,
    token_id        String,
    client_ip       String,
    method          LowCardinality(String),
    route           LowCardinality(String),
    status          UInt16,
    latency_ms      Float32,
    bytes_in        UInt64,
    bytes_out       UInt64,
    operation       LowCardinality(String),
    decision        LowCardinality(String),
    request_id      String,
    rule            LowCardinality(String),
    kafka_partition Int32,
    kafka_offset    Int64,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3),
    -- The ingest consumer looks events up by id (redelivered duplicates); this skips granules that cannot hold them.
    INDEX event_id_bloom event_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (account_id, ts, event_id)
TTL toDateTime(ts) + INTERVAL ${retentionDays} DAY
SETTINGS non_replicated_deduplication_window = 1000`;

/** A row as inserted (JSONEachRow). */
export const requestLogRowSchema = z.object({
  event_id: z.string(),
  ts: z.string(),
  account_id: z.string(),
  token_id: z.string(),
  client_ip: z.string(),
  method: z.string(),
  route: z.string(),
  status: z.number().int(),
  latency_ms: z.number(),
  bytes_in: z.number().int(),
  bytes_out: z.number().int(),
  operation: z.string(),
  decision: z.string(),
  request_id: z.string(),
  rule: z.string(),
  kafka_partition: z.number().int(),
  kafka_offset: z.number().int(),
});
export type RequestLogRow = z.infer<typeof requestLogRowSchema>;

/**
 * The ingest consumer's progress per Kafka partition, written only after the rows of a flush are stored: everything
 * at or below `offset` is in request_logs, so a redelivered message at or below it is skipped without a lookup.
 * It may lag the rows (a crash between the two inserts); the event-id check covers that gap. Read with max().
 */
export const INGEST_OFFSETS_TABLE = 'ingest_offsets';

export const ingestOffsetsDdl = (db: string) => `
CREATE TABLE IF NOT EXISTS ${db}.${INGEST_OFFSETS_TABLE}
(
    topic      String,
    partition  Int32,
    offset     Int64,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(offset)
ORDER BY (topic, partition)`;
