/** Tuning of the ingest feature; the defaults suit one control-plane process on two cores. */
export interface IngestOptions {
  /** Start the consumer group (the HTTP endpoint works without it). */
  consume: boolean;
  /** A flush (one ClickHouse insert) happens when this many messages are waiting... */
  batchMaxRows: number;
  /** ...or this long after the first of them arrived. */
  flushIntervalMs: number;
  /** Back-off bounds while ClickHouse (or the dead-letter topic) is unavailable. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Members of the consumer group this process runs (each fetches its share of the partitions). */
  members: number;
  /** Bytes Kafka returns per partition per fetch: large fetches make large inserts. */
  maxBytesPerPartition: number;
  /**
   * The consumer remembers which events it stored by event time, so only events older than that memory are looked up
   * in ClickHouse. On getting partitions it loads the events stored within this window before now...
   */
  recentIdsWindowMs: number;
  /** ...and keeps at most this many ids (about 80 bytes each), dropping the oldest seconds first. */
  recentIdsMax: number;
  /** How long POST /v1/ingest/logs waits for Kafka's acknowledgement before answering 503. */
  publishTimeoutMs: number;
}

export const DEFAULT_INGEST_OPTIONS: IngestOptions = {
  consume: true,
  batchMaxRows: 50_000,
  flushIntervalMs: 50,
  retryMinMs: 200,
  retryMaxMs: 5_000,
  members: 2,
  maxBytesPerPartition: 8 * 1024 * 1024,
  publishTimeoutMs: 10_000,
  recentIdsWindowMs: 15 * 60_000,
  recentIdsMax: 1_000_000,
};

/** Optional partial override of DEFAULT_INGEST_OPTIONS (tests, benchmarks). */
export const INGEST_OPTIONS = Symbol('INGEST_OPTIONS');

/** The documented limits of POST /v1/ingest/logs (docs/ingest.md). */
export const INGEST_HTTP_LIMITS = {
  maxEvents: 10_000,
  maxBodyBytes: 5 * 1024 * 1024,
} as const;
