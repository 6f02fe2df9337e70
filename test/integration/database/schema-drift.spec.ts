import { readFileSync } from 'node:fs';
import path from 'node:path';
import { get_dmmf } from '@prisma/prisma-schema-wasm';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@usageguard/testing';

/**
 * Fails when prisma/schema.prisma and prisma/migrations disagree. Prisma's own `migrate diff` needs a schema
 * engine that cannot be downloaded everywhere, so this compares the schema's DMMF (Prisma's own WebAssembly
 * parser) with the catalogue of a database built by applying every migration: tables, columns, types,
 * nullability, defaults, enums, primary keys, unique and plain indexes, foreign keys and their delete rules.
 */

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'enum' | 'object';
  type: string;
  isList: boolean;
  isRequired: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  fields: { name: string }[];
}
interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: { name: string; values: { name: string }[] }[];
    indexes: DmmfIndex[];
  };
}

const schemaText = readFileSync(path.join(__dirname, '../../../prisma/schema.prisma'), 'utf8');
const dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: schemaText }))) as Dmmf;
const models = dmmf.datamodel.models;
const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
const columnOf = (model: DmmfModel, fieldName: string) => {
  const field = model.fields.find((f) => f.name === fieldName);
  if (!field) throw new Error(`${model.name}.${fieldName} not found`);
  return field.dbName ?? field.name;
};

function expectedType(field: DmmfField): string {
  const native = field.nativeType?.[0];
  const base: Record<string, string> = {
    String: native === 'Uuid' ? 'uuid' : 'text',
    Int: 'int4',
    BigInt: 'int8',
    Float: 'float8',
    Boolean: 'bool',
    DateTime: native === 'Timestamptz' ? 'timestamptz' : 'timestamp',
    Json: 'jsonb',
    Decimal: 'numeric',
  };
  const udt = field.kind === 'enum' ? field.type : base[field.type];
  if (!udt) throw new Error(`no mapping for ${field.type}`);
  return field.isList ? `_${udt}` : udt;
}

/** Defaults Prisma fills in the client (uuid(), cuid(), now() is a DB default) are not in the database. */
function expectsDbDefault(field: DmmfField): boolean {
  if (!field.hasDefaultValue) return false;
  const fn = (field.default as { name?: string } | undefined)?.name;
  return fn !== 'uuid' && fn !== 'cuid' && fn !== 'nanoid' && fn !== 'ulid';
}

describe('Prisma schema and SQL migrations agree', () => {
  let db: TestDatabase;
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  it('has exactly the schema tables and columns, with the same types, nullability and defaults', async () => {
    const { rows } = await pg.query<{
      table_name: string;
      column_name: string;
      udt_name: string;
      is_nullable: 'YES' | 'NO';
      column_default: string | null;
    }>(
      `SELECT table_name, column_name, udt_name, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, column_name`,
    );
    const actual = rows.map(
      (r) =>
        `${r.table_name}.${r.column_name} ${r.udt_name} ${r.is_nullable === 'YES' ? 'null' : 'not null'} ${r.column_default === null ? 'no-default' : 'default'}`,
    );
    const expected = models
      .flatMap((model) =>
        model.fields
          .filter((f) => f.kind !== 'object')
          .map((f) => {
            // Prisma creates list columns without NOT NULL.
            const nullable = f.isList || !f.isRequired;
            const hasDefault = expectsDbDefault(f) || (f.default as { name?: string })?.name === 'autoincrement';
            return `${tableOf(model)}.${f.dbName ?? f.name} ${expectedType(f)} ${nullable ? 'null' : 'not null'} ${hasDefault ? 'default' : 'no-default'}`;
          }),
      )
      .sort();
    expect(actual.sort()).toEqual(expected);
  });

  it('has the schema enums with their values in order', async () => {
    const { rows } = await pg.query<{ name: string; values: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS values
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname ORDER BY t.typname`,
    );
    const expected = dmmf.datamodel.enums
      .map((e) => ({ name: e.name, values: e.values.map((v) => v.name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(rows).toEqual(expected);
  });

  it('has the schema primary keys, unique and plain indexes', async () => {
    const { rows } = await pg.query<{ table: string; unique: boolean; primary: boolean; columns: string[] }>(
      `SELECT c.relname AS table, i.indisunique AS unique, i.indisprimary AS primary,
              array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace
       WHERE ns.nspname = 'public' AND c.relname <> '_prisma_migrations'`,
    );
    const kind = (r: { unique: boolean; primary: boolean }) => (r.primary ? 'id' : r.unique ? 'unique' : 'normal');
    const actual = rows.map((r) => `${r.table} ${kind(r)} (${r.columns.join(', ')})`).sort();
    const expected = dmmf.datamodel.indexes
      .map((index) => {
        const model = models.find((m) => m.name === index.model)!;
        return `${tableOf(model)} ${index.type} (${index.fields.map((f) => columnOf(model, f.name)).join(', ')})`;
      })
      .sort();
    expect(actual).toEqual(expected);
  });

  it('has the schema foreign keys with their delete rules', async () => {
    const { rows } = await pg.query<{
      table: string;
      columns: string[];
      ref: string;
      ref_columns: string[];
      on_delete: string;
    }>(
      `SELECT c.conrelid::regclass::text AS table, c.confrelid::regclass::text AS ref,
              array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS columns,
              array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n)::text[] AS ref_columns,
              c.confdeltype AS on_delete
       FROM pg_constraint c WHERE c.contype = 'f'`,
    );
    const rule: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };
    const actual = rows
      .map(
        (r) =>
          `${r.table.replace(/"/g, '')}(${r.columns.join(', ')}) -> ${r.ref.replace(/"/g, '')}(${r.ref_columns.join(', ')}) ${rule[r.on_delete]}`,
      )
      .sort();
    const expected = models
      .flatMap((model) =>
        model.fields
          .filter((f) => f.kind === 'object' && (f.relationFromFields?.length ?? 0) > 0)
          .map((f) => {
            const target = models.find((m) => m.name === f.type)!;
            const optional = !f.isRequired;
            const onDelete = f.relationOnDelete ?? (optional ? 'SetNull' : 'Restrict');
            const from = f.relationFromFields!.map((name) => columnOf(model, name)).join(', ');
            const to = f.relationToFields!.map((name) => columnOf(target, name)).join(', ');
            return `${tableOf(model)}(${from}) -> ${tableOf(target)}(${to}) ${onDelete}`;
          }),
      )
      .sort();
    expect(actual).toEqual(expected);
  });
});
