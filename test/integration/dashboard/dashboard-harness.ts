import { type INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { hash } from '@node-rs/argon2';
import { APP_CONFIG, ConfigModule } from '@usageguard/config';
import { ClickHouseModule, ClickHouseRepository } from '@usageguard/clickhouse';
import { DatabaseModule, PrismaRepository, type OpsRole } from '@usageguard/database';
import { MailModule } from '@usageguard/mail';
import { configureHttpApp, ObservabilityModule } from '@usageguard/observability';
import { QueueModule } from '@usageguard/queue';
import { RedisModule, RedisRepository } from '@usageguard/redis';
import { createTestEnvironment, type TestEnvironment } from '@usageguard/testing';
import { DashboardAppModule } from '../../../apps/dashboard/src/app.module';
import { configureDashboardHttp } from '../../../apps/dashboard/src/dashboard.http';
import { DashboardModule } from '../../../apps/dashboard/src/dashboard.module';
import { EnforcerModule } from '../../../apps/enforcer/src/enforcer.module';

export const PASSWORD = 'correct horse battery staple';

export interface DashboardHarness {
  env: TestEnvironment;
  app: INestApplication;
  url: string;
  prisma: PrismaRepository;
  clickhouse: ClickHouseRepository;
  redis: RedisRepository;
  users: Record<OpsRole, { id: string; email: string }>;
  close(): Promise<void>;
}

/** The dashboard next to the real enforcer (its queue served), as the control plane composes them. */
@Module({
  imports: [
    ConfigModule,
    ObservabilityModule.forRoot({ app: 'dashboard-test', probes: { inject: [], useFactory: () => [] } }),
    DatabaseModule,
    RedisModule,
    ClickHouseModule,
    QueueModule.forRoot({ serve: ['enforcer'] }),
    MailModule,
    DashboardModule,
    EnforcerModule,
  ],
})
class DashboardWithEnforcerModule {}

/**
 * The dashboard app (its real root module, or with { enforcer: true } the dashboard and enforcer feature modules
 * together) on its own Postgres database, Redis prefix and chDB directory, listening on a free port, with one ops
 * user per role.
 */
export async function startDashboard(options: { enforcer?: boolean } = {}): Promise<DashboardHarness> {
  const env = await createTestEnvironment({ database: true });
  const root = options.enforcer ? DashboardWithEnforcerModule : DashboardAppModule;
  const moduleRef = await Test.createTestingModule({ imports: [root] })
    .overrideProvider(APP_CONFIG)
    .useValue(env.config)
    .compile();
  const app = moduleRef.createNestApplication({ bufferLogs: true });
  configureHttpApp(app);
  configureDashboardHttp(app, env.config);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const prisma = app.get(PrismaRepository);
  const passwordHash = await hash(PASSWORD);
  const users = {} as DashboardHarness['users'];
  for (const role of ['VIEWER', 'OPERATOR', 'ADMIN'] as const) {
    const email = `${role.toLowerCase()}@ops.test`;
    const user = await prisma.opsUser.create({ data: { email, name: `${role} user`, role, passwordHash } });
    users[role] = { id: user.id, email };
  }
  const redis = app.get(RedisRepository);
  return {
    env,
    app,
    url,
    prisma,
    clickhouse: app.get(ClickHouseRepository),
    redis,
    users,
    close: async () => {
      const keys = await redis.client.keys(`${env.config.redis.prefix}*`);
      if (keys.length > 0) await redis.client.del(...keys);
      await app.close();
      await env.cleanup();
    },
  };
}

export interface Session {
  cookie: string;
  csrf: string;
}

/** Signs in over HTTP like the browser does; returns the session cookie and the CSRF token. */
export async function login(url: string, email: string, password = PASSWORD, cookie?: string): Promise<Session> {
  const response = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200) throw new Error(`login ${email}: ${response.status} ${await response.text()}`);
  const setCookie = response.headers.get('set-cookie') ?? '';
  const body = (await response.json()) as { csrfToken: string };
  return { cookie: setCookie.split(';')[0], csrf: body.csrfToken };
}

export async function api(
  url: string,
  method: string,
  path: string,
  session?: Session,
  body?: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field with expect()
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(session ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}
