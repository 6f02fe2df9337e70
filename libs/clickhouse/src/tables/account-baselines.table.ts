import { z } from 'zod';

/**
 * The band each analyzer cycle judged an account against: one row per account × operation class × hour, written by
 * the analyzer (apps/analyzer) and read by the dashboard for "usage against baseline". Rates are requests per
 * minute; operation '*' is the account's total. A recomputed hour replaces the older row (ReplacingMergeTree on
 * computed_at): read with FINAL, or argMax(…, computed_at). Documented in docs/analyzer.md.
 */
export const ACCOUNT_BASELINES_TABLE = 'account_baselines';

export const accountBaselinesDdl = (db: string) => `
CREATE TABLE IF NOT EXISTS ${db}.${ACCOUNT_BASELINES_TABLE}
(
    hour          DateTime('UTC'),
    account_id    String,
    operation     LowCardinality(String),
    slot          UInt8,
    centre        Float64,
    spread        Float64,
    lower         Float64,
    upper         Float64,
    samples       UInt16,
    prior_weight  Float32,
    computed_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(hour)
ORDER BY (account_id, operation, hour)`;

export const accountBaselineRowSchema = z.object({
  hour: z.string(),
  account_id: z.string(),
  operation: z.string(),
  slot: z.number().int().min(0).max(167),
  centre: z.number(),
  spread: z.number(),
  lower: z.number(),
  upper: z.number(),
  samples: z.number().int(),
  prior_weight: z.number(),
});
export type AccountBaselineRow = z.infer<typeof accountBaselineRowSchema>;
