import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { ChdbExtension } from 'chdb/connection';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { createClickHouseClient } from './clickhouse.client';
import { CLICKHOUSE_MIGRATIONS, type ClickHouseMigration } from './clickhouse.migrations';

export type QueryParams = Record<string, unknown>;

/** Line-delimited text formats insertRaw() sends as they are (the ones chDB's raw insert takes). */
export type RawInsertFormat = 'JSONEachRow' | 'JSONCompactEachRow' | 'TabSeparated';
export type RawInsertSettings = Readonly<Record<string, string | number | boolean>>;

/**
 * UsageGuard's only door to ClickHouse (server or embedded chDB). Every value travels as a server-side query
 * parameter ({name:Type} placeholders); only the database name, validated by the config, is part of the SQL text.
 */
@Injectable()
export class ClickHouseRepository implements OnModuleDestroy {
  private readonly logger = new Logger(ClickHouseRepository.name);
  readonly client: ClickHouseClient;
  readonly database: string;
  private readonly retentionDays: number;
  private readonly chdb: ChdbExtension | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    ({ client: this.client, chdb: this.chdb } = createClickHouseClient(config.clickhouse));
    this.database = config.clickhouse.database;
    this.retentionDays = config.clickhouse.retentionDays;
  }

  /** Fully qualified table name. */
  table(name: string): string {
    return `${this.database}.${name}`;
  }

  /** Rows as objects (JSONEachRow), or as arrays in column order (JSONCompactEachRow: lighter for many rows). */
  async query<T>(
    query: string,
    params: QueryParams = {},
    format: 'JSONEachRow' | 'JSONCompactEachRow' = 'JSONEachRow',
  ): Promise<T[]> {
    const result = await this.client.query({ query, query_params: params, format });
    return result.json<T>();
  }

  async command(query: string, params: QueryParams = {}, settings: ClickHouseSettings = {}): Promise<void> {
    await this.client.command({ query, query_params: params, clickhouse_settings: settings });
  }

  async insert<T>(table: string, rows: T[], settings: ClickHouseSettings = {}): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table: this.table(table),
      values: rows,
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    });
  }

  /**
   * Inserts a body that is already `format` text, one row per line, as it is: JavaScript neither builds rows nor
   * encodes them (the hot path: the ingest consumer). Embedded, chDB hands the Buffer to its parser without a copy;
   * against a server it is the body of the HTTP INSERT. The client's default settings do not apply to the embedded
   * path: pass every setting the body needs.
   */
  async insertRaw(
    table: string,
    format: RawInsertFormat,
    body: Buffer,
    settings: RawInsertSettings = {},
  ): Promise<void> {
    if (body.length === 0) return;
    if (this.chdb) {
      await this.chdb.rawInsert({ table: this.table(table), format, values: body, settings: { ...settings } });
      return;
    }
    const result = await this.client.exec({
      query: `INSERT INTO ${this.table(table)} FORMAT ${format}`,
      values: Readable.from([body], { objectMode: false }),
      clickhouse_settings: settings,
    });
    await finished(result.stream.resume());
  }

  async ping(): Promise<void> {
    const result = await this.client.ping();
    if (!result.success) throw result.error;
  }

  /** Applies pending versioned migrations; recorded in <db>.schema_migrations. Returns the versions applied. */
  async migrate(migrations: ClickHouseMigration[] = CLICKHOUSE_MIGRATIONS): Promise<number[]> {
    const db = this.database;
    await this.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
    await this.command(
      `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version`,
    );
    const done = new Set(
      (await this.query<{ version: number }>(`SELECT version FROM ${db}.schema_migrations`)).map((r) =>
        Number(r.version),
      ),
    );
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(db, { retentionDays: this.retentionDays })) {
        await this.command(statement);
      }
      await this.insert('schema_migrations', [{ version: migration.version, name: migration.name }]);
      this.logger.log(`applied ClickHouse migration ${migration.version} ${migration.name}`);
      applied.push(migration.version);
    }
    return applied;
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }
}
