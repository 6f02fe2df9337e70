import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { type AppConfig, loadConfig } from '@usageguard/config';
import { MIGRATIONS_DIR, migrate, readMigrations } from '@usageguard/database';
import { createHash } from 'node:crypto';

/** A short random id that names one test's own resources (database, topics, Redis prefix, chDB directory). */
export const uniqueId = (): string => randomBytes(5).toString('hex');

const baseConfig = loadConfig(process.env);

/** The URL of database `name` on the configured Postgres server. */
export function databaseUrl(name: string, base = baseConfig.database.url): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `fn` with a client connected to the server's `postgres` database (to create or drop databases). */
export async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let templateReady: Promise<string> | undefined;

/**
 * A migrated template database, named after the migrations' checksums, so each test database is a cheap copy
 * (CREATE DATABASE … TEMPLATE) and a changed migration gets a fresh template.
 */
function migratedTemplate(): Promise<string> {
  templateReady ??= (async () => {
    const migrations = await readMigrations(MIGRATIONS_DIR);
    const digest = createHash('sha256')
      .update(migrations.map((m) => m.checksum).join())
      .digest('hex')
      .slice(0, 12);
    const name = `ug_template_${digest}`;
    await migrate(databaseUrl(name)); // idempotent, advisory-locked: parallel test files wait for each other
    return name;
  })();
  return templateReady;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, fully migrated Postgres database of this test's own; drop() removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await migratedTemplate();
  const name = `ug_test_${uniqueId()}`;
  await admin(async (client) => {
    // Copying a template needs it free of other sessions; retry briefly while another copy is being made.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  return {
    url: databaseUrl(name),
    name,
    drop: () => admin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

export interface TestEnvironment {
  id: string;
  env: Record<string, string>;
  config: AppConfig;
  database?: TestDatabase;
  chdbPath: string;
  cleanup(): Promise<void>;
}

/**
 * Environment variables and a validated config that isolate one test file on the shared local services:
 * its own Postgres database (when asked), Kafka topic prefix, Redis prefix and chDB directory.
 */
export async function createTestEnvironment(options: { database?: boolean } = {}): Promise<TestEnvironment> {
  const id = uniqueId();
  const database = options.database ? await createTestDatabase() : undefined;
  const chdbPath = mkdtempSync(path.join(tmpdir(), `ug-chdb-${id}-`));
  const env: Record<string, string> = {
    ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    KAFKA_TOPIC_PREFIX: `t-${id}-`,
    REDIS_PREFIX: `t:${id}:`,
    CHDB_PATH: chdbPath,
    CLICKHOUSE_DATABASE: `t_${id}`,
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
  return {
    id,
    env,
    config: loadConfig(env),
    database,
    chdbPath,
    cleanup: async () => {
      await database?.drop();
      rmSync(chdbPath, { recursive: true, force: true });
    },
  };
}
