export * from './clickhouse.client';
export * from './clickhouse.repository';
export * from './clickhouse.module';
export * from './clickhouse.migrations';
export * from './tables/request-logs.table';
export * from './tables/request-rollups.table';
export * from './tables/account-baselines.table';
export * from './tables/token-ips.table';
