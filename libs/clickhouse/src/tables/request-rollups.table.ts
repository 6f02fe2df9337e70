import { z } from 'zod';

/**
 * Per-minute rollups: account × route × operation class × status class × decision, kept by a materialized view
 * on request_logs. SummingMergeTree folds rows with the same key as parts merge: always read with sum() and GROUP BY.
 */
export const REQUEST_ROLLUPS_TABLE = 'request_rollups_1m';
export const REQUEST_ROLLUPS_VIEW = 'request_rollups_1m_mv';

export const requestRollupsDdl = (db: string) => `
CREATE TABLE IF NOT EXISTS ${db}.${REQUEST_ROLLUPS_TABLE}
(
    minute         DateTime('UTC'),
    account_id     String,
    route          LowCardinality(String),
    operation      LowCardinality(String),
    status_class   UInt8,
    decision       LowCardinality(String),
    requests       UInt64,
    auth_failures  UInt64,
    errors         UInt64,
    bytes_in       UInt64,
    bytes_out      UInt64,
    latency_ms_sum Float64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (account_id, minute, route, operation, status_class, decision)`;

export const requestRollupsViewDdl = (db: string) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${REQUEST_ROLLUPS_VIEW} TO ${db}.${REQUEST_ROLLUPS_TABLE} AS
SELECT
    toStartOfMinute(ts)                AS minute,
    account_id,
    route,
    operation,
    toUInt8(intDiv(status, 100))       AS status_class,
    decision,
    count()                            AS requests,
    countIf(status IN (401, 403))      AS auth_failures,
    countIf(status >= 500)             AS errors,
    sum(bytes_in)                      AS bytes_in,
    sum(bytes_out)                     AS bytes_out,
    sum(toFloat64(latency_ms))         AS latency_ms_sum
FROM ${db}.request_logs
GROUP BY minute, account_id, route, operation, status_class, decision`;

export const rollupRowSchema = z.object({
  minute: z.string(),
  account_id: z.string(),
  route: z.string(),
  operation: z.string(),
  status_class: z.number(),
  decision: z.string(),
  requests: z.coerce.number(),
  auth_failures: z.coerce.number(),
  errors: z.coerce.number(),
  bytes_in: z.coerce.number(),
  bytes_out: z.coerce.number(),
  latency_ms_sum: z.number(),
});
export type RollupRow = z.infer<typeof rollupRowSchema>;
