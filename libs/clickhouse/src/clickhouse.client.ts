import { type ClickHouseClient, type ClickHouseClientConfigOptions, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync } from 'node:fs';

export interface ClickHouseTarget {
  /** A ClickHouse server (http://host:8123); when absent, chDB runs embedded at chdbPath. */
  url?: string;
  user: string;
  password: string;
  chdbPath: string;
}

/**
 * One code path for both modes: `@clickhouse/client` over HTTP to a server, or over chDB's in-process connection.
 * chDB binds one data directory per process, so a process creates at most one embedded client.
 */
export function createClickHouseClient(target: ClickHouseTarget): ClickHouseClient {
  const common = {
    request_timeout: 60_000,
    clickhouse_settings: { date_time_input_format: 'best_effort' as const },
  };
  if (target.url) {
    return createClient({ ...common, url: target.url, username: target.user, password: target.password });
  }
  mkdirSync(target.chdbPath, { recursive: true });
  // chdb types its connection against @clickhouse/client-common, which @clickhouse/client now bundles under its
  // own path: the same interface, two declarations.
  const connection = createChdbConnection({
    path: target.chdbPath,
  }) as unknown as ClickHouseClientConfigOptions['connection'];
  return createClient({ ...common, connection });
}
