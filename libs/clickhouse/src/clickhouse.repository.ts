import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { createClickHouseClient } from './clickhouse.client';
import { CLICKHOUSE_MIGRATIONS, type ClickHouseMigration } from './clickhouse.migrations';
import type { InsertSpool } from './insert-spool';

export type QueryParams = Record<string, unknown>;

/** Line-delimited text formats insertRaw() sends as they are. */
export const RAW_INSERT_FORMATS = ['JSONEachRow', 'JSONCompactEachRow', 'TabSeparated'] as const;
export type RawInsertFormat = (typeof RAW_INSERT_FORMATS)[number];
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
  private readonly spool: InsertSpool | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    ({ client: this.client, spool: this.spool } = createClickHouseClient(config.clickhouse));
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
   * encodes them (the hot path: the ingest consumer). Against a server it is the body of the HTTP INSERT; embedded,
   * chDB reads it from a spool file (`INSERT … FROM INFILE`), a sixth of what its in-memory raw insert costs a byte
   * (InsertSpool). Pass every setting the body needs: the client's defaults do not apply to the embedded path.
   */
  async insertRaw(
    table: string,
    format: RawInsertFormat,
    body: Buffer,
    settings: RawInsertSettings = {},
  ): Promise<void> {
    if (body.length === 0) return;
    if (!RAW_INSERT_FORMATS.includes(format)) throw new Error(`not a raw insert format: ${String(format)}`);
    if (this.spool) {
      const target = this.table(table);
      await this.spool.withFile(body, format, (file) =>
        this.client.command({
          query: `INSERT INTO ${target} FROM INFILE ${sqlString(file)} COMPRESSION 'none'${settingsClause(settings)} FORMAT ${format}`,
        }),
      );
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

/** A ClickHouse string literal. */
function sqlString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** ` SETTINGS k = v, …` for a statement's own settings, or nothing; names are checked, values are literals. */
function settingsClause(settings: RawInsertSettings): string {
  const entries = Object.entries(settings);
  if (entries.length === 0) return '';
  const literal = (value: string | number | boolean) => {
    if (typeof value === 'string') return sqlString(value);
    if (typeof value === 'boolean') return value ? '1' : '0';
    if (!Number.isFinite(value)) throw new Error(`a setting must be a finite number, not ${value}`);
    return String(value);
  };
  return ` SETTINGS ${entries
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a setting name: ${JSON.stringify(name)}`);
      return `${name} = ${literal(value)}`;
    })
    .join(', ')}`;
}
