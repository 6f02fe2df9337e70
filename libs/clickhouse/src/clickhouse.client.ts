import { type ClickHouseClient, type ClickHouseClientConfigOptions, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { InsertSpool } from './insert-spool';

export interface ClickHouseTarget {
  /** A ClickHouse server (http://host:8123); when absent, chDB runs embedded at chdbPath. */
  url?: string;
  user: string;
  password: string;
  chdbPath: string;
}

export interface ClickHouseClients {
  client: ClickHouseClient;
  /** Where raw inserts wait as files when embedded (InsertSpool says why); absent for a server. */
  spool?: InsertSpool;
}

/**
 * One code path for both modes: `@clickhouse/client` over HTTP to a server, or over chDB's in-process connection.
 * chDB binds one data directory per process, so a process creates at most one embedded client.
 */
export function createClickHouseClient(target: ClickHouseTarget): ClickHouseClients {
  const common = {
    request_timeout: 60_000,
    clickhouse_settings: { date_time_input_format: 'best_effort' as const },
  };
  if (target.url) {
    return { client: createClient({ ...common, url: target.url, username: target.user, password: target.password }) };
  }
  mkdirSync(target.chdbPath, { recursive: true });
  // chdb types its connection against @clickhouse/client-common, which @clickhouse/client now bundles under its
  // own path: the same interface, two declarations.
  const chdb = createChdbConnection({ path: target.chdbPath });
  const connection = chdb as unknown as ClickHouseClientConfigOptions['connection'];
  return {
    client: createClient({ ...common, connection }),
    spool: new InsertSpool(path.join(target.chdbPath, 'insert-spool')),
  };
}
