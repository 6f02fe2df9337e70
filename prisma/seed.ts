import { hash } from '@node-rs/argon2';
import { loadConfig } from '@usageguard/config';
import { createPrismaClient, type Prisma } from '@usageguard/database';
import { hashSecret, secretPrefix } from '@usageguard/domain';
import { DEMO_ACCOUNTS, DEMO_ADMIN, DEMO_INGEST_KEY, DEMO_PLANS } from './demo-data';
import { DEMO_PLAN_POLICIES } from './demo-policies';

/**
 * `npm run db:seed`: demo plans from the seed policies, demo accounts with tokens, an ingest key and the first
 * admin. Idempotent (upserts by natural keys), so it can run on every start of the demo.
 * The admin's password comes from USAGEGUARD_ADMIN_PASSWORD (default `usageguard-demo`, for the local demo only).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const prisma = createPrismaClient(config.database.url);
  try {
    for (const plan of DEMO_PLANS) {
      const { rules, ...fields } = plan;
      // Detection and enforcement settings are written when the plan is created only: ops may tune them later in
      // the dashboard, and a restart of the demo must not undo that.
      const policies = DEMO_PLAN_POLICIES[plan.key] ?? {};
      const saved = await prisma.plan.upsert({
        where: { key: plan.key },
        create: { ...fields, ...(policies as object) },
        update: fields,
      });
      for (const [position, rule] of rules.entries()) {
        const data = {
          scope: rule.scope,
          windows: rule.windows as unknown as Prisma.InputJsonValue,
          routes: rule.routes ?? [],
          cidrs: rule.cidrs ?? [],
          shadow: rule.shadow ?? false,
          concurrency: rule.concurrency ?? null,
          cost: rule.cost ?? 1,
          failMode: rule.failMode ?? 'OPEN',
          countLimited: rule.countLimited ?? false,
          position,
        };
        await prisma.limitRule.upsert({
          where: { planId_name: { planId: saved.id, name: rule.name } },
          create: { planId: saved.id, name: rule.name, ...data },
          update: data,
        });
      }
    }

    const plans = new Map((await prisma.plan.findMany()).map((p) => [p.key, p.id]));
    for (const account of DEMO_ACCOUNTS) {
      const planId = plans.get(account.plan);
      if (!planId) throw new Error(`demo account ${account.externalId}: unknown plan ${account.plan}`);
      const saved = await prisma.account.upsert({
        where: { externalId: account.externalId },
        create: {
          externalId: account.externalId,
          name: account.name,
          planId,
          allowlisted: account.allowlisted ?? false,
        },
        update: { name: account.name, planId },
      });
      await prisma.notificationContact.upsert({
        where: { accountId_email: { accountId: saved.id, email: account.contact } },
        create: { accountId: saved.id, email: account.contact },
        update: {},
      });
      for (const token of account.tokens) {
        const secretHash = hashSecret(token.secret);
        await prisma.apiToken.upsert({
          where: { secretHash },
          create: { accountId: saved.id, name: token.name, prefix: secretPrefix(token.secret), secretHash },
          update: { revokedAt: null },
        });
      }
    }

    const ingestHash = hashSecret(DEMO_INGEST_KEY);
    await prisma.ingestKey.upsert({
      where: { secretHash: ingestHash },
      create: { name: 'demo gateway', prefix: secretPrefix(DEMO_INGEST_KEY), secretHash: ingestHash },
      update: { revokedAt: null },
    });

    const password = config.bootstrap.adminPassword;
    const existing = await prisma.opsUser.findUnique({ where: { email: DEMO_ADMIN.email } });
    if (!existing) {
      await prisma.opsUser.create({
        data: { email: DEMO_ADMIN.email, name: DEMO_ADMIN.name, role: 'ADMIN', passwordHash: await hash(password) },
      });
    }
    console.log(
      `[seed] ${DEMO_PLANS.length} plans, ${DEMO_ACCOUNTS.length} accounts, admin ${DEMO_ADMIN.email}${existing ? ' (kept)' : ''}`,
    );
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(`[seed] ${(error as Error).message}`);
  process.exit(1);
});
