import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule } from '@usageguard/config';
import { type OpsActor, restrictionKeys } from '@usageguard/contracts';
import { DatabaseModule, PrismaRepository, type PrismaClient, createPrismaClient } from '@usageguard/database';
import { MailModule } from '@usageguard/mail';
import { ObservabilityModule } from '@usageguard/observability';
import { QueueModule, QueueRepository } from '@usageguard/queue';
import { RedisModule, RedisRepository, RestrictionStore } from '@usageguard/redis';
import { createTestEnvironment, startTcpProxy, type TcpProxy, type TestEnvironment } from '@usageguard/testing';
import { Redis } from 'ioredis';
import { EnforcerModule } from '../../../apps/enforcer/src/enforcer.module';
import { startSmtpSink, type SmtpSink } from './smtp-sink';

/** As in apps/enforcer/src/main.ts. */
export const ENFORCER_CONCURRENCY = { enforcer: 8, mail: 4 };

/** The enforcer app as apps/enforcer/src/main.ts composes it, without the HTTP listener. */
export async function startEnforcer(serve: ('enforcer' | 'mail')[] = ['enforcer', 'mail']) {
  @Module({
    imports: [
      ConfigModule,
      ObservabilityModule.forRoot({ app: 'enforcer-test', probes: { inject: [], useFactory: () => [] } }),
      DatabaseModule,
      RedisModule,
      QueueModule.forRoot({ serve, concurrency: ENFORCER_CONCURRENCY }),
      MailModule,
      EnforcerModule,
    ],
  })
  class EnforcerTestModule {}
  return NestFactory.createApplicationContext(EnforcerTestModule, { logger: ['error'] });
}

export interface EnforcerHarness {
  env: TestEnvironment;
  smtp: SmtpSink;
  /** In front of the SMTP server when asked for: cut() is an outage. */
  smtpProxy?: TcpProxy;
  app: INestApplicationContext;
  prisma: PrismaClient;
  queue: QueueRepository;
  store: RestrictionStore;
  redis: RedisRepository;
  /** Announcements seen on the restriction channel, parsed. */
  announcements: { action: string; accountId: string; key: string; version: number }[];
  close(): Promise<void>;
}

/**
 * One isolated enforcer: its own database, Redis prefix and SMTP server; process.env is this test file's (each
 * file runs in its own process), so ConfigModule validates exactly what a deployed enforcer would.
 */
export async function createHarness(options: { smtpProxy?: boolean } = {}): Promise<EnforcerHarness> {
  const env = await createTestEnvironment({ database: true });
  const smtp = await startSmtpSink();
  const proxy = options.smtpProxy ? await startTcpProxy({ host: '127.0.0.1', port: smtp.port }) : undefined;
  Object.assign(process.env, env.env, {
    SMTP_URL: `smtp://127.0.0.1:${proxy?.port ?? smtp.port}`,
    MAIL_FROM: 'Provider API <noreply@provider.test>',
  });
  const app = await startEnforcer();
  const redis = app.get(RedisRepository);
  const subscriber = new Redis(env.config.redis.url);
  const announcements: EnforcerHarness['announcements'] = [];
  subscriber.on('message', (_channel: string, message: string) => announcements.push(JSON.parse(message)));
  await subscriber.subscribe(restrictionKeys.channel(redis.prefix));
  return {
    env,
    smtp,
    smtpProxy: proxy,
    app,
    prisma: app.get(PrismaRepository),
    queue: app.get(QueueRepository),
    store: app.get(RestrictionStore),
    redis,
    announcements,
    close: async () => {
      await subscriber.quit();
      await app.close();
      await deletePrefix(env.config.redis.url, env.config.redis.prefix);
      await proxy?.close();
      await smtp.close();
      await env.cleanup();
    },
  };
}

/** Deletes this test's keys, and only those (the prefix is the test's own). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  if (!prefix.startsWith('t:')) throw new Error(`refusing to delete keys outside a test prefix: ${prefix}`);
  const client = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
  await client.quit();
}

export interface Fixture {
  planId: string;
  accountId: string;
}

/** A plan with the given ladder and an account with two notification contacts. */
export async function createAccount(
  prisma: PrismaClient,
  options: { enforcementConfig?: object; allowlisted?: boolean; limitStatusCode?: number; name?: string } = {},
): Promise<Fixture> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const plan = await prisma.plan.create({
    data: {
      key: `plan-${suffix}`,
      name: `Plan ${suffix}`,
      limitStatusCode: options.limitStatusCode ?? 429,
      enforcementConfig: options.enforcementConfig ?? {},
    },
  });
  const account = await prisma.account.create({
    data: {
      name: options.name ?? `Acme ${suffix}`,
      planId: plan.id,
      allowlisted: options.allowlisted ?? false,
      contacts: { create: [{ email: `ops-${suffix}@acme.test` }, { email: `cto-${suffix}@acme.test` }] },
    },
  });
  return { planId: plan.id, accountId: account.id };
}

export async function createFlag(
  prisma: PrismaClient,
  accountId: string,
  severity: 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL',
  kind: 'SUSTAINED_EXCESS' | 'ENDPOINT_HAMMERING' | 'ERROR_STORM' | 'TOKEN_SPREAD' = 'SUSTAINED_EXCESS',
) {
  return prisma.flag.create({
    data: {
      accountId,
      kind,
      severity,
      openKey: `${accountId}:${kind}`,
      score: 7.5,
      summary: 'Sustained 9.4× the usual request rate for 45 minutes',
      evidence: {
        summary: 'Sustained 9.4× the usual request rate for 45 minutes',
        top: {
          routes: [{ value: 'GET /v1/contacts', requests: 48211 }],
          tokens: [{ value: 'c0ffee00-0000-4000-8000-000000000000', requests: 48211 }],
          ips: [{ value: '203.0.113.7', requests: 48211 }],
        },
      },
    },
  });
}

/** Ops throttles the whole account to half its limits for ten minutes, through the enforcer queue. */
export function applyManualThrottle(queue: QueueRepository, accountId: string, actor: OpsActor): Promise<unknown> {
  return queue.enqueueAndWait(
    'enforcer',
    'apply-restriction',
    {
      accountId,
      mode: 'throttle',
      scope: 'account',
      scopeValue: null,
      throttleFactor: 0.5,
      statusCode: 429,
      reasonCode: 'reasonable_use',
      durationSeconds: 600,
      flagId: null,
      actor,
      reason: 'manual',
    },
    { jobId: `apply-${accountId}` },
  );
}

export { createPrismaClient };
