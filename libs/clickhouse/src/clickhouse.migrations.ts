import {
  INGEST_OFFSETS_TABLE,
  REQUEST_LOGS_TABLE,
  ingestOffsetsDdl,
  requestLogsDdl,
} from './tables/request-logs.table';
import { requestLogsIntakeDdl, requestLogsIntakeViewDdl } from './tables/request-logs-intake.table';
import { requestRollupsDdl, requestRollupsViewDdl } from './tables/request-rollups.table';
import { accountBaselinesDdl } from './tables/account-baselines.table';
import { tokenIpsDdl, tokenIpsViewDdl } from './tables/token-ips.table';
import { usageHourlyDdl, usageHourlyRebuild } from './tables/usage-hourly.table';

export interface ClickHouseMigration {
  version: number;
  name: string;
  /** Statements run in order; each must be idempotent (IF NOT EXISTS) so a half-applied migration can rerun. */
  statements: (db: string, options: { retentionDays: number }) => string[];
}

/** Append only: never edit a migration that has shipped; add the next version. */
export const CLICKHOUSE_MIGRATIONS: ClickHouseMigration[] = [
  {
    version: 1,
    name: 'request_logs_and_minute_rollups',
    statements: (db, { retentionDays }) => [
      requestLogsDdl(db, retentionDays),
      requestRollupsDdl(db),
      requestRollupsViewDdl(db),
      ingestOffsetsDdl(db),
    ],
  },
  {
    version: 2,
    name: 'analyzer_baselines_and_token_ips',
    statements: (db) => [accountBaselinesDdl(db), tokenIpsDdl(db), tokenIpsViewDdl(db)],
  },
  {
    version: 3,
    name: 'analyzer_hourly_usage',
    statements: (db) => [usageHourlyDdl(db)],
  },
  {
    version: 4,
    name: 'analyzer_hourly_usage_by_hour',
    statements: (db) => usageHourlyRebuild(db),
  },
  {
    version: 5,
    name: 'request_logs_intake',
    statements: (db) => [requestLogsIntakeDdl(db), requestLogsIntakeViewDdl(db)],
  },
];

export const TABLES = { requestLogs: REQUEST_LOGS_TABLE, ingestOffsets: INGEST_OFFSETS_TABLE } as const;
