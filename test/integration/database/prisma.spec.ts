import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, migrate, type PrismaClient } from '@usageguard/database';
import { admin, createTestDatabase, databaseUrl, type TestDatabase, uniqueId } from '@usageguard/testing';

describe('Postgres through Prisma (real database)', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  it('writes and reads the domain through the generated client', async () => {
    const plan = await prisma.plan.create({
      data: {
        key: 'keebai-default',
        name: 'Keebai',
        rules: {
          create: [
            {
              name: 'per-token',
              scope: 'TOKEN',
              windows: [
                { limit: 60, seconds: 60 },
                { limit: 1000, seconds: 3600 },
              ],
            },
          ],
        },
      },
    });
    const account = await prisma.account.create({
      data: { name: 'Acme', planId: plan.id, contacts: { create: [{ email: 'ops@acme.test' }] } },
      include: { contacts: true, plan: { include: { rules: true } } },
    });
    expect(account.plan.rules[0].windows).toEqual([
      { limit: 60, seconds: 60 },
      { limit: 1000, seconds: 3600 },
    ]);
    expect(account.contacts.map((c) => c.email)).toEqual(['ops@acme.test']);
  });

  it('keeps one open flag per account and kind', async () => {
    const plan = await prisma.plan.create({ data: { key: 'p-flags', name: 'Flags' } });
    const account = await prisma.account.create({ data: { name: 'Beta', planId: plan.id } });
    const openKey = `${account.id}:SUSTAINED_EXCESS`;
    await prisma.flag.create({ data: { accountId: account.id, kind: 'SUSTAINED_EXCESS', severity: 'HIGH', openKey } });
    await expect(
      prisma.flag.create({ data: { accountId: account.id, kind: 'SUSTAINED_EXCESS', severity: 'LOW', openKey } }),
    ).rejects.toThrow();
    // Once resolved (open_key cleared) a new flag of the same kind may open.
    await prisma.flag.updateMany({ where: { openKey }, data: { openKey: null, status: 'RESOLVED' } });
    await prisma.flag.create({ data: { accountId: account.id, kind: 'SUSTAINED_EXCESS', severity: 'LOW', openKey } });
    expect(await prisma.flag.count({ where: { accountId: account.id } })).toBe(2);
  });

  it('migrating again applies nothing and records what prisma migrate deploy records', async () => {
    const again = await migrate(db.url);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBeGreaterThan(0);
    const rows = await prisma.$queryRaw<{ migration_name: string; checksum: string; finished_at: Date | null }[]>`
      SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"`;
    expect(rows.map((r) => r.migration_name)).toEqual(again.alreadyApplied);
    for (const row of rows) {
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
    }
  });

  it('migrates a database that does not exist yet when several processes start at once', async () => {
    // Test files and services racing to create the same database: CREATE DATABASE for one name, run concurrently,
    // fails all but one, with 42P04 or with a unique violation on pg_database depending on timing.
    const name = `ug_test_${uniqueId()}`;
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => migrate(databaseUrl(name))));
      expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
      const migrated = createPrismaClient(databaseUrl(name));
      try {
        const [{ n }] = await migrated.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "_prisma_migrations"`;
        expect(n).toBe(results[0].applied.length + results[0].alreadyApplied.length);
      } finally {
        await migrated.$disconnect();
      }
    } finally {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  });
});
