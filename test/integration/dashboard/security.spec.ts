import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_KEY, ROLE_KEY } from '../../../apps/dashboard/src/auth/auth.decorators';
import { api, login, PASSWORD, startDashboard, type DashboardHarness, type Session } from './dashboard-harness';
import { seedWorld, type Seeded } from './fixtures';

type Role = 'VIEWER' | 'OPERATOR' | 'ADMIN';
const ORDER: Role[] = ['VIEWER', 'OPERATOR', 'ADMIN'];

interface RouteInfo {
  method: string;
  path: string;
  role: Role | 'PUBLIC' | undefined;
}

/** Every route the HTTP server actually has under /api (Express's router, as Nest registered it). */
function expressRoutes(h: DashboardHarness): { method: string; path: string }[] {
  interface Layer {
    route?: { path: string; methods: Record<string, boolean> };
  }
  const router = (h.app.getHttpAdapter().getInstance() as { router: { stack: Layer[] } }).router;
  return router.stack
    .filter((layer): layer is Required<Layer> => layer.route !== undefined && layer.route.path.startsWith('/api/'))
    .flatMap((layer) =>
      Object.keys(layer.route.methods).map((method) => ({ method: method.toUpperCase(), path: layer.route.path })),
    );
}

/** The role each controller method declares, read from Nest's metadata the way the guard reads it. */
function declaredRoutes(h: DashboardHarness): RouteInfo[] {
  const discovery = h.app.get(DiscoveryService);
  const scanner = h.app.get(MetadataScanner);
  const reflector = h.app.get(Reflector);
  const routes: RouteInfo[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
    if (!controller || !wrapper.instance) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    if (!base.startsWith('api/')) continue;
    for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(wrapper.instance))) {
      const handler = (wrapper.instance as Record<string, () => void>)[name];
      const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (sub === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const path = `/${base}${sub === '/' || sub === '' ? '' : `/${sub}`}`;
      const isPublic = reflector.getAllAndOverride<boolean>(PUBLIC_KEY, [handler, controller]);
      const role = reflector.getAllAndOverride<Role | undefined>(ROLE_KEY, [handler, controller]);
      routes.push({ method, path, role: isPublic ? 'PUBLIC' : role });
    }
  }
  return routes;
}

const concrete = (path: string) => path.replace(/:\w+/g, randomUUID());

describe('dashboard API security', () => {
  let h: DashboardHarness;
  let world: Seeded;
  const sessions = {} as Record<Role, Session>;

  beforeAll(async () => {
    h = await startDashboard();
    world = await seedWorld(h.prisma, h.clickhouse);
    for (const role of ORDER) sessions[role] = await login(h.url, h.users[role].email);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('finds every /api route in the router, and each declares a role (or is the public login)', () => {
    const served = expressRoutes(h);
    const declared = declaredRoutes(h);
    expect(served.length).toBeGreaterThanOrEqual(18);
    const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
    expect(new Set(served.map(key))).toEqual(new Set(declared.map(key)));
    const undeclared = declared.filter((r) => r.role === undefined).map(key);
    expect(undeclared).toEqual([]);
    expect(declared.filter((r) => r.role === 'PUBLIC').map(key)).toEqual(['POST /api/auth/login']);
  });

  it('documents every API route in OpenAPI at /docs, with the cookie and CSRF schemes', async () => {
    const doc = await api(h.url, 'GET', '/docs/openapi.json');
    expect(doc.status).toBe(200);
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    for (const route of declaredRoutes(h)) expect(documented).toContain(`${route.method} ${route.path}`);
    expect(Object.keys(doc.body.components.securitySchemes as object).sort()).toEqual(['csrf', 'session']);
  });

  it('answers 401 to anonymous callers on every route but login', async () => {
    for (const route of declaredRoutes(h).filter((r) => r.role !== 'PUBLIC')) {
      const response = await api(
        h.url,
        route.method,
        concrete(route.path),
        undefined,
        route.method === 'GET' ? undefined : {},
      );
      expect(response.status, `${route.method} ${route.path}`).toBe(401);
      // A forged cookie is no better than none.
      const forged = await api(h.url, route.method, concrete(route.path), { cookie: 'ug_session=forged', csrf: 'x' });
      expect(forged.status, `${route.method} ${route.path} (forged cookie)`).toBe(401);
    }
  });

  it('answers 403 to users below the route’s role, and lets the role itself through', async () => {
    for (const route of declaredRoutes(h).filter((r) => r.role !== 'PUBLIC')) {
      const least = ORDER.indexOf(route.role as Role);
      for (const [index, role] of ORDER.entries()) {
        const response = await api(
          h.url,
          route.method,
          concrete(route.path),
          sessions[role],
          route.method === 'GET' ? undefined : {},
        );
        const label = `${role} → ${route.method} ${route.path}`;
        if (index < least) expect(response.status, label).toBe(403);
        else expect([401, 403], label).not.toContain(response.status);
        // Logout just ended that session: sign in again for the routes after it.
        if (route.path === '/api/auth/logout') sessions[role] = await login(h.url, h.users[role].email);
      }
    }
  });

  it('enforces CSRF on state changes: missing, wrong or another session’s token is refused and nothing changes', async () => {
    const operator = sessions.OPERATOR;
    const path = `/api/burst-notices/${world.burstNoticeId}/review`;
    const body = { decision: 'approve', note: 'fine' };
    const missing = await api(h.url, 'POST', path, undefined, body, { cookie: operator.cookie });
    expect(missing.status).toBe(403);
    const wrong = await api(h.url, 'POST', path, { cookie: operator.cookie, csrf: 'not-the-token' }, body);
    expect(wrong.status).toBe(403);
    const other = await api(h.url, 'POST', path, { cookie: operator.cookie, csrf: sessions.ADMIN.csrf }, body);
    expect(other.status).toBe(403);
    const notice = await h.prisma.burstNotice.findUniqueOrThrow({ where: { id: world.burstNoticeId } });
    expect(notice.status).toBe('PENDING');
    // Reads need no token.
    const read = await api(h.url, 'GET', '/api/burst-notices', undefined, undefined, { cookie: operator.cookie });
    expect(read.status).toBe(200);
  });

  it('rotates the session at login: a new httpOnly cookie, and the one the browser had before stops working', async () => {
    const before = await login(h.url, h.users.VIEWER.email);
    const response = await fetch(`${h.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: before.cookie },
      body: JSON.stringify({ email: h.users.VIEWER.email, password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const after = setCookie.split(';')[0];
    expect(after).not.toBe(before.cookie);
    const body = (await response.json()) as { csrfToken: string };
    expect(body.csrfToken).not.toBe(before.csrf);
    expect((await api(h.url, 'GET', '/api/auth/session', before)).status).toBe(401);
    expect((await api(h.url, 'GET', '/api/auth/session', { cookie: after, csrf: body.csrfToken })).status).toBe(200);
    // Only the hash of the token is stored.
    const token = after.split('=')[1];
    expect(await h.prisma.opsSession.count({ where: { tokenHash: token } })).toBe(0);
  });

  it('ends the session at logout', async () => {
    const session = await login(h.url, h.users.VIEWER.email);
    expect((await api(h.url, 'POST', '/api/auth/logout', session)).status).toBe(204);
    expect((await api(h.url, 'GET', '/api/flags', session)).status).toBe(401);
    const events = await h.prisma.auditEvent.findMany({ where: { action: 'auth.logout', actorId: h.users.VIEWER.id } });
    expect(events.length).toBeGreaterThan(0);
  });

  it('throttles password guessing per email: after 5 failures even the right password is refused for a while', async () => {
    const email = 'guessme@ops.test';
    await h.prisma.opsUser.create({
      data: { email, role: 'VIEWER', passwordHash: (await h.prisma.opsUser.findFirstOrThrow()).passwordHash },
    });
    for (let i = 0; i < 5; i++) {
      const wrong = await api(h.url, 'POST', '/api/auth/login', undefined, { email, password: `wrong-${i}` });
      expect(wrong.status).toBe(401);
    }
    const right = await api(h.url, 'POST', '/api/auth/login', undefined, { email, password: PASSWORD });
    expect(right.status).toBe(429);
    expect(await h.prisma.auditEvent.count({ where: { action: 'auth.login-failed' } })).toBeGreaterThanOrEqual(5);
    expect(await h.prisma.auditEvent.count({ where: { action: 'auth.login-throttled' } })).toBe(1);
  });

  it('answers malformed input with 400 and changes nothing', async () => {
    const admin = sessions.ADMIN;
    const plan = await h.prisma.plan.findUniqueOrThrow({ where: { id: world.planId }, include: { rules: true } });
    const rule = plan.rules[0];
    const valid = {
      expectedVersion: plan.version,
      name: rule.name,
      scope: 'TOKEN',
      routes: [],
      cidrs: [],
      windows: [{ limit: 100, seconds: 60 }],
      cost: 1,
      failMode: 'OPEN',
      shadow: false,
      countLimited: false,
      enabled: true,
      position: 0,
    };
    const bad: [string, string, unknown][] = [
      ['PUT', `/api/plans/${plan.id}/rules/${rule.id}`, { ...valid, windows: [] }],
      ['PUT', `/api/plans/${plan.id}/rules/${rule.id}`, { ...valid, windows: [{ limit: -1, seconds: 60 }] }],
      ['PUT', `/api/plans/${plan.id}/rules/${rule.id}`, { ...valid, cidrs: ['10.0.0.0/99'] }],
      ['PUT', `/api/plans/${plan.id}/rules/${rule.id}`, { ...valid, routes: ['not a route'] }],
      ['PUT', `/api/plans/${plan.id}/rules/${rule.id}`, { ...valid, scope: 'GALAXY' }],
      ['PUT', `/api/plans/${plan.id}/rules/${rule.id}`, { ...valid, extra: 'field' }],
      ['PATCH', `/api/plans/${plan.id}`, { expectedVersion: plan.version, limitStatusCode: 418 }],
      ['PATCH', `/api/plans/not-a-uuid`, { expectedVersion: plan.version, name: 'x' }],
      ['PATCH', `/api/plans/${plan.id}`, '{"expectedVersion": '],
      ['POST', `/api/burst-notices/${world.burstNoticeId}/review`, { decision: 'maybe', note: '' }],
      ['POST', `/api/flags/${world.flagged.flagId}/review`, { decision: 'approve' }],
      [
        'POST',
        `/api/accounts/${world.flagged.id}/restrictions`,
        {
          mode: 'throttle',
          scope: 'account',
          statusCode: 429,
          reasonCode: 'x_y',
          durationSeconds: 3600,
          reason: 'too much',
        },
      ],
      [
        'POST',
        `/api/accounts/${world.flagged.id}/restrictions`,
        {
          mode: 'block',
          scope: 'token',
          statusCode: 429,
          reasonCode: 'abuse',
          durationSeconds: 3600,
          reason: 'too much',
        },
      ],
      [
        'POST',
        `/api/accounts/${world.flagged.id}/restrictions`,
        {
          mode: 'block',
          scope: 'account',
          statusCode: 200,
          reasonCode: 'abuse',
          durationSeconds: 3600,
          reason: 'too much',
        },
      ],
      [
        'POST',
        `/api/accounts/${world.flagged.id}/restrictions`,
        {
          mode: 'block',
          scope: 'account',
          statusCode: 429,
          reasonCode: 'abuse',
          durationSeconds: 1,
          reason: 'too much',
        },
      ],
      ['GET', `/api/flags?severity=APOCALYPTIC`, undefined],
      ['GET', `/api/flags?limit=100000`, undefined],
      ['GET', `/api/accounts/${world.flagged.id}/usage?range=1y`, undefined],
      ['GET', `/api/audit?before=abc`, undefined],
    ];
    const auditBefore = await h.prisma.auditEvent.count();
    const jobsBefore = await h.redis.client.keys(`${h.env.config.redis.prefix}bull:enforcer:*`);
    for (const [method, path, body] of bad) {
      const response = await api(h.url, method, path, admin, body);
      expect(response.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    }
    const after = await h.prisma.plan.findUniqueOrThrow({ where: { id: plan.id }, include: { rules: true } });
    expect(after.version).toBe(plan.version);
    expect(after.limitStatusCode).toBe(plan.limitStatusCode);
    expect(after.rules.find((r) => r.id === rule.id)?.windows).toEqual(rule.windows);
    expect((await h.prisma.burstNotice.findUniqueOrThrow({ where: { id: world.burstNoticeId } })).status).toBe(
      'PENDING',
    );
    expect(await h.prisma.restriction.count()).toBe(0);
    expect(await h.prisma.auditEvent.count()).toBe(auditBefore);
    expect(await h.redis.client.keys(`${h.env.config.redis.prefix}bull:enforcer:*`)).toEqual(jobsBefore);
  });
});
