/**
 * Hourly usage per account, compacted by the analyzer from request_rollups_1m once an hour has closed: the
 * account's total ('total', key '*'), each operation class ('operation') and each route ('route'), with the hour's
 * 90th-percentile minute. Baselines train on weeks of these rows instead of scanning weeks of minute rollups.
 * A recompacted hour replaces the older row (ReplacingMergeTree on computed_at): read with FINAL. Ordered by kind
 * and hour first: the analyzer reads a few hours of every account, never one account's whole history.
 */
export const USAGE_HOURLY_TABLE = 'usage_1h';

export const usageHourlyDdl = (db: string) => `
CREATE TABLE IF NOT EXISTS ${db}.${USAGE_HOURLY_TABLE}
(
    hour            DateTime('UTC'),
    account_id      String,
    kind            LowCardinality(String),
    key             String,
    requests        UInt64,
    auth_failures   UInt64,
    limited         UInt64,
    p90_per_minute  Float64,
    computed_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(hour)
ORDER BY (kind, hour, account_id, key)`;

/** Migration 4: the table is derived data (recompacted on demand), so a new sort order is a drop and a create. */
export const usageHourlyRebuild = (db: string) => [
  `DROP TABLE IF EXISTS ${db}.${USAGE_HOURLY_TABLE}`,
  usageHourlyDdl(db),
];
