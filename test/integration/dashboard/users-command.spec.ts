import { verify } from '@node-rs/argon2';
import { createPrismaClient, type PrismaClient } from '@usageguard/database';
import { createTestEnvironment, type TestEnvironment } from '@usageguard/testing';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');

describe('usageguard users (first admin and ops users)', () => {
  let env: TestEnvironment;
  let prisma: PrismaClient;

  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/main.ts', 'users', ...args], {
      cwd: ROOT,
      env: env.env,
      input,
      encoding: 'utf8',
    });

  beforeAll(async () => {
    env = await createTestEnvironment({ database: true });
    prisma = createPrismaClient(env.config.database.url);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await env?.cleanup();
  });

  it('creates the first admin with a password from stdin, hashed with argon2, and audits it', async () => {
    const created = cli(
      ['create', '--email', 'Ana@Example.com', '--name', 'Ana', '--role', 'admin', '--password-stdin'],
      'a long enough password\n',
    );
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toContain('created ana@example.com (admin)');
    const user = await prisma.opsUser.findUniqueOrThrow({ where: { email: 'ana@example.com' } });
    expect(user.role).toBe('ADMIN');
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verify(user.passwordHash, 'a long enough password')).toBe(true);
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'ops-user.create' } });
    expect(audit).toMatchObject({ actorType: 'SYSTEM', targetId: user.id });
  });

  it('refuses a duplicate, a short password and an unknown role; generates a password when none is given', async () => {
    expect(cli(['create', '--email', 'ana@example.com', '--password-stdin'], 'another long password').status).toBe(1);
    expect(cli(['create', '--email', 'bo@example.com', '--password-stdin'], 'short').status).toBe(1);
    expect(cli(['create', '--email', 'bo@example.com', '--role', 'root']).status).toBe(1);
    expect(await prisma.opsUser.count({ where: { email: 'bo@example.com' } })).toBe(0);
    const generated = cli(['create', '--email', 'bo@example.com', '--role', 'operator']);
    expect(generated.status, generated.stderr).toBe(0);
    const password = /password: (\S+)/.exec(generated.stdout)?.[1];
    const user = await prisma.opsUser.findUniqueOrThrow({ where: { email: 'bo@example.com' } });
    expect(await verify(user.passwordHash, password!)).toBe(true);
  });

  it('lists users and disables one, ending its sessions', async () => {
    const user = await prisma.opsUser.findUniqueOrThrow({ where: { email: 'bo@example.com' } });
    await prisma.opsSession.create({
      data: { tokenHash: 'h', userId: user.id, csrfToken: 'c', expiresAt: new Date(Date.now() + 3_600_000) },
    });
    expect(cli(['list']).stdout).toMatch(/bo@example\.com\toperator/);
    expect(cli(['disable', '--email', 'bo@example.com']).status).toBe(0);
    expect((await prisma.opsUser.findUniqueOrThrow({ where: { id: user.id } })).disabled).toBe(true);
    expect(await prisma.opsSession.count({ where: { userId: user.id } })).toBe(0);
  });
});
