import { hash } from '@node-rs/argon2';
import { type Command } from 'commander';
import { loadConfig } from '@usageguard/config';
import { createPrismaClient, type OpsRole } from '@usageguard/database';
import { randomBytes } from 'node:crypto';

const ROLES: OpsRole[] = ['VIEWER', 'OPERATOR', 'ADMIN'];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function parseRole(value: string): OpsRole {
  const role = value.toUpperCase() as OpsRole;
  if (!ROLES.includes(role)) throw new Error(`role must be one of ${ROLES.join(', ').toLowerCase()}`);
  return role;
}

/**
 * `usageguard users …`: ops users of the dashboard. `users create` makes the first admin on a fresh install (and
 * any later user); the password is read from stdin with --password-stdin, or generated and printed once.
 */
export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('dashboard ops users (viewer, operator, admin)');

  users
    .command('create')
    .description('create an ops user, or reset the password and role of an existing one with --update')
    .requiredOption('--email <email>', 'sign-in email')
    .option('--name <name>', 'display name', '')
    .option('--role <role>', 'viewer, operator or admin', 'viewer')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .option('--update', 'update the user if it exists')
    .action(
      async (options: { email: string; name: string; role: string; passwordStdin?: boolean; update?: boolean }) => {
        const role = parseRole(options.role);
        const email = options.email.trim().toLowerCase();
        if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new Error('--email must be an email address');
        const generated = options.passwordStdin ? undefined : randomBytes(15).toString('base64url');
        const password = generated ?? (await readStdin());
        if (password.length < 12) throw new Error('the password must be at least 12 characters');
        const prisma = createPrismaClient(loadConfig().database.url);
        try {
          const existing = await prisma.opsUser.findUnique({ where: { email } });
          if (existing && !options.update) throw new Error(`${email} exists already (use --update to reset it)`);
          const passwordHash = await hash(password);
          const user = await prisma.$transaction(async (tx) => {
            const saved = existing
              ? await tx.opsUser.update({
                  where: { id: existing.id },
                  data: { role, passwordHash, disabled: false, ...(options.name ? { name: options.name } : {}) },
                })
              : await tx.opsUser.create({ data: { email, name: options.name, role, passwordHash } });
            if (existing) await tx.opsSession.deleteMany({ where: { userId: existing.id } });
            await tx.auditEvent.create({
              data: {
                actorType: 'SYSTEM',
                actorId: 'cli',
                action: existing ? 'ops-user.update' : 'ops-user.create',
                targetType: 'ops_user',
                targetId: saved.id,
                before: existing ? { role: existing.role, disabled: existing.disabled } : undefined,
                after: { email, role },
              },
            });
            return saved;
          });
          console.log(`${existing ? 'updated' : 'created'} ${user.email} (${user.role.toLowerCase()})`);
          if (generated) console.log(`password: ${generated}`);
        } finally {
          await prisma.$disconnect();
        }
      },
    );

  users
    .command('list')
    .description('list ops users')
    .action(async () => {
      const prisma = createPrismaClient(loadConfig().database.url);
      try {
        const all = await prisma.opsUser.findMany({ orderBy: { email: 'asc' } });
        for (const user of all) {
          const state = user.disabled ? 'disabled' : `last sign-in ${user.lastLoginAt?.toISOString() ?? 'never'}`;
          console.log(`${user.email}\t${user.role.toLowerCase()}\t${state}`);
        }
      } finally {
        await prisma.$disconnect();
      }
    });

  users
    .command('disable')
    .description('disable an ops user and end their sessions')
    .requiredOption('--email <email>')
    .action(async (options: { email: string }) => {
      const prisma = createPrismaClient(loadConfig().database.url);
      try {
        const email = options.email.trim().toLowerCase();
        const user = await prisma.opsUser.findUnique({ where: { email } });
        if (!user) throw new Error(`no ops user ${email}`);
        await prisma.$transaction([
          prisma.opsUser.update({ where: { id: user.id }, data: { disabled: true } }),
          prisma.opsSession.deleteMany({ where: { userId: user.id } }),
          prisma.auditEvent.create({
            data: {
              actorType: 'SYSTEM',
              actorId: 'cli',
              action: 'ops-user.disable',
              targetType: 'ops_user',
              targetId: user.id,
            },
          }),
        ]);
        console.log(`disabled ${email}`);
      } finally {
        await prisma.$disconnect();
      }
    });
}
