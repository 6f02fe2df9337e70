import { type ClickHouseRepository } from '@usageguard/clickhouse';
import { type PrismaRepository } from '@usageguard/database';
import { randomUUID } from 'node:crypto';

export interface Seeded {
  planId: string;
  accounts: { id: string; name: string }[];
  /** The account with an open critical flag and the big spike. */
  flagged: { id: string; name: string; flagId: string };
  burstNoticeId: string;
}

const HOUR = 3_600_000;

/**
 * A small realistic world for the dashboard: a plan with rules, a few accounts, flags with evidence, emails, burst
 * notices; two days of per-minute rollups and a day of raw logs in ClickHouse with an obvious spike on the flagged
 * account, and the analyzer's baseline band for it.
 */
export async function seedWorld(
  prisma: PrismaRepository,
  clickhouse: ClickHouseRepository,
  now = Date.now(),
): Promise<Seeded> {
  const plan = await prisma.plan.create({
    data: {
      key: `growth-${randomUUID().slice(0, 6)}`,
      name: 'Growth',
      description: 'Self-serve plan: 600 requests per minute per token, 50,000 per day per account.',
      priorPerMinute: 40,
      rules: {
        create: [
          { name: 'per-token-minute', scope: 'TOKEN', windows: [{ limit: 600, seconds: 60 }], position: 0 },
          {
            name: 'per-account-day',
            scope: 'ACCOUNT',
            windows: [{ limit: 50_000, seconds: 86_400, aligned: true }],
            position: 1,
          },
          {
            name: 'license-validate',
            scope: 'TOKEN',
            routes: ['POST /v1/licenses/validate'],
            windows: [
              { limit: 10, seconds: 1 },
              { limit: 300, seconds: 60 },
            ],
            position: 2,
          },
        ],
      },
    },
  });
  const names = ['Northwind Analytics', 'Globex Retail', 'Initech Billing', 'Umbrella Labs'];
  const accounts = [];
  for (const [i, name] of names.entries()) {
    const account = await prisma.account.create({
      data: {
        name,
        externalId: `cus_${1000 + i}`,
        planId: plan.id,
        contacts: { create: [{ email: `ops@${name.split(' ')[0].toLowerCase()}.test` }] },
        tokens: {
          create: [
            { name: 'production', prefix: `ugk_${i}pr`, secretHash: randomUUID() },
            { name: 'staging', prefix: `ugk_${i}st`, secretHash: randomUUID() },
          ],
        },
      },
      include: { tokens: true },
    });
    accounts.push(account);
  }
  const flaggedAccount = accounts[0];
  const flag = await prisma.flag.create({
    data: {
      accountId: flaggedAccount.id,
      kind: 'SUSTAINED_EXCESS',
      severity: 'CRITICAL',
      openKey: `${flaggedAccount.id}:SUSTAINED_EXCESS`,
      score: 8.4,
      summary: '5.2× its usual rate for 47 minutes on POST /v1/reports',
      firstSeenAt: new Date(now - 3 * HOUR),
      lastSeenAt: new Date(now - 5 * 60_000),
      evidence: {
        observedPerMinute: 2080,
        bandUpper: 400,
        ratio: 5.2,
        sustainedMinutes: 47,
        topRoutes: [
          { route: 'POST /v1/reports', requests: 81234 },
          { route: 'GET /v1/reports/:id', requests: 12011 },
        ],
        burstNotice: null,
      },
    },
  });
  await prisma.flag.create({
    data: {
      accountId: accounts[1].id,
      kind: 'LIMIT_PRESSURE',
      severity: 'MEDIUM',
      openKey: `${accounts[1].id}:LIMIT_PRESSURE`,
      score: 3.1,
      summary: '38% of requests limited over the last hour',
      firstSeenAt: new Date(now - 26 * HOUR),
      evidence: { limitedShare: 0.38, rule: 'per-token-minute' },
    },
  });
  await prisma.flag.create({
    data: {
      accountId: accounts[2].id,
      kind: 'ERROR_STORM',
      severity: 'HIGH',
      openKey: `${accounts[2].id}:ERROR_STORM`,
      score: 5.6,
      summary: '61% 5xx answers on GET /v1/invoices',
      firstSeenAt: new Date(now - 50 * 60_000),
      evidence: { errorShare: 0.61, route: 'GET /v1/invoices' },
    },
  });
  await prisma.notification.create({
    data: {
      accountId: accounts[1].id,
      kind: 'WARNING',
      idempotencyKey: `seed:${randomUUID()}`,
      recipients: ['ops@globex.test'],
      subject: 'Your API usage is close to your plan limits',
      status: 'SENT',
      sentAt: new Date(now - 20 * HOUR),
    },
  });
  const notice = await prisma.burstNotice.create({
    data: {
      accountId: accounts[3].id,
      startsAt: new Date(now + 72 * HOUR),
      endsAt: new Date(now + 80 * HOUR),
      timezone: 'Europe/Berlin',
      expectedPerMinute: 1500,
      endpoints: ['POST /v1/reports'],
      context: 'Quarter-end batch: we re-run every customer report once.',
    },
  });
  await prisma.burstNotice.create({
    data: {
      accountId: accounts[3].id,
      startsAt: new Date(now - 30 * 24 * HOUR),
      endsAt: new Date(now - 30 * 24 * HOUR + 6 * HOUR),
      expectedPerHour: 40_000,
      status: 'APPROVED',
      context: 'Migration of historical data.',
    },
  });

  await seedUsage(
    clickhouse,
    accounts.map((a) => ({ id: a.id, tokens: a.tokens.map((t) => t.id) })),
    flaggedAccount.id,
    now,
  );
  return {
    planId: plan.id,
    accounts: accounts.map((a) => ({ id: a.id, name: a.name })),
    flagged: { id: flaggedAccount.id, name: flaggedAccount.name, flagId: flag.id },
    burstNoticeId: notice.id,
  };
}

const ROUTES = ['GET /v1/reports/:id', 'POST /v1/reports', 'GET /v1/invoices', 'POST /v1/licenses/validate'];

/** Rollups for 48 hours (daily shape, a spike on the flagged account in the last hours) and 24 hours of raw logs. */
async function seedUsage(
  clickhouse: ClickHouseRepository,
  accounts: { id: string; tokens: string[] }[],
  flaggedId: string,
  now: number,
): Promise<void> {
  const rollups = [];
  const baselines = [];
  const currentMinute = Math.floor(now / 60_000) * 60_000;
  for (const [a, account] of accounts.entries()) {
    const base = 120 + a * 60;
    for (let m = 48 * 60; m >= 0; m--) {
      const t = currentMinute - m * 60_000;
      const hourOfDay = new Date(t).getUTCHours();
      const daily = 0.55 + 0.45 * Math.sin(((hourOfDay - 6) / 24) * 2 * Math.PI);
      const spike = account.id === flaggedId && m < 180 && m > 5 ? 5.2 : 1;
      const requests = Math.round(base * daily * spike * (0.9 + ((m * 7919) % 20) / 100));
      const limited = spike > 1 ? Math.round(requests * 0.18) : 0;
      const minute = new Date(t).toISOString().slice(0, 19).replace('T', ' ');
      rollups.push(
        row(minute, account.id, 'POST /v1/reports', 'allowed', requests - limited),
        ...(limited > 0 ? [row(minute, account.id, 'POST /v1/reports', 'limited', limited)] : []),
      );
      if (account.id === flaggedId && t % 3_600_000 === 0) {
        baselines.push({
          hour: minute,
          account_id: account.id,
          operation: '*',
          slot: 0,
          centre: base * daily,
          spread: base * daily * 0.15,
          lower: base * daily * 0.7,
          upper: base * daily * 1.3,
          samples: 28,
          prior_weight: 0,
        });
      }
    }
  }
  await clickhouse.insert('request_rollups_1m', rollups);
  await clickhouse.insert('account_baselines', baselines);

  const logs = [];
  for (const [a, account] of accounts.entries()) {
    const count = account.id === flaggedId ? 1500 : 200;
    for (let i = 0; i < count; i++) {
      const ts = new Date(now - ((i * 3_600_000 * 23) / count) * (account.id === flaggedId ? 0.1 : 1) - 1000);
      logs.push({
        event_id: randomUUID(),
        ts: ts.toISOString().replace('T', ' ').replace('Z', ''),
        account_id: account.id,
        token_id: account.tokens[i % 5 === 0 ? 1 : 0],
        client_ip: `203.0.113.${(i % (account.id === flaggedId ? 3 : 9)) + 10 + a}`,
        method: ROUTES[i % 7 === 0 ? 0 : 1].split(' ')[0],
        route: ROUTES[i % 7 === 0 ? 0 : 1].split(' ')[1],
        status: i % 11 === 0 ? 429 : 200,
        latency_ms: 20 + (i % 30),
        bytes_in: 300,
        bytes_out: 1200,
        operation: i % 7 === 0 ? 'read' : 'write',
        decision: i % 11 === 0 ? 'limited' : 'allowed',
        request_id: randomUUID(),
        rule: i % 11 === 0 ? 'per-token-minute' : '',
        kafka_partition: 0,
        kafka_offset: i,
      });
    }
  }
  // Raw logs also feed the rollup views; these land in the last day, on top of the rollups written directly.
  await clickhouse.insert('request_logs', logs);
}

function row(minute: string, accountId: string, routeKey: string, decision: string, requests: number) {
  const [, route] = routeKey.split(' ');
  return {
    minute,
    account_id: accountId,
    route: route,
    operation: 'write',
    status_class: decision === 'allowed' ? 2 : 4,
    decision,
    requests,
    auth_failures: 0,
    errors: 0,
    bytes_in: requests * 300,
    bytes_out: requests * 1200,
    latency_ms_sum: requests * 25,
  };
}
