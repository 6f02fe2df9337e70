import { RestrictionStore } from '@usageguard/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, login, startDashboard, type DashboardHarness, type Session } from './dashboard-harness';
import { seedWorld, type Seeded } from './fixtures';

describe('dashboard actions and pages, with the real enforcer', () => {
  let h: DashboardHarness;
  let world: Seeded;
  let operator: Session;
  let admin: Session;
  let viewer: Session;

  beforeAll(async () => {
    h = await startDashboard({ enforcer: true });
    world = await seedWorld(h.prisma, h.clickhouse);
    operator = await login(h.url, h.users.OPERATOR.email);
    admin = await login(h.url, h.users.ADMIN.email);
    viewer = await login(h.url, h.users.VIEWER.email);
  });

  afterAll(async () => {
    await h?.close();
  });

  const restrictionBody = {
    mode: 'throttle',
    scope: 'account',
    throttleFactor: 0.25,
    statusCode: 429,
    reasonCode: 'sustained_excess',
    durationSeconds: 3600,
    reason: 'five times its usual rate for three hours',
  };

  it('applies, extends and lifts a restriction through the enforcer; the edge’s Redis record follows', async () => {
    const store = h.app.get(RestrictionStore);
    const key = { 'idempotency-key': 'apply-once-0001' };
    const path = `/api/accounts/${world.flagged.id}/restrictions`;
    const first = await api(h.url, 'POST', path, operator, { ...restrictionBody, flagId: world.flagged.flagId }, key);
    expect(first.status).toBe(200);
    // The same click retried (same Idempotency-Key) joins the first job instead of restricting twice.
    const retried = await api(h.url, 'POST', path, operator, { ...restrictionBody, flagId: world.flagged.flagId }, key);
    expect(retried.status).toBe(200);
    const restrictions = await h.prisma.restriction.findMany({ where: { accountId: world.flagged.id } });
    expect(restrictions).toHaveLength(1);
    const restriction = restrictions[0];
    expect(restriction).toMatchObject({
      status: 'ACTIVE',
      mode: 'THROTTLE',
      throttleFactor: 0.25,
      createdByType: 'OPS_USER',
    });
    expect(await store.get(world.flagged.id, 'account', null)).toMatchObject({ mode: 'throttle', id: restriction.id });

    const later = new Date(restriction.expiresAt.getTime() + 6 * 3_600_000);
    const extended = await api(h.url, 'POST', `/api/restrictions/${restriction.id}/extend`, operator, {
      expiresAt: later.toISOString(),
      reason: 'still going',
    });
    expect(extended.status).toBe(200);
    const afterExtend = await h.prisma.restriction.findUniqueOrThrow({ where: { id: restriction.id } });
    expect(afterExtend.expiresAt.toISOString()).toBe(later.toISOString());
    // An earlier expiry is not an extension.
    const shorter = await api(h.url, 'POST', `/api/restrictions/${restriction.id}/extend`, operator, {
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      reason: 'oops',
    });
    expect(shorter.status).toBe(400);

    const lifted = await api(h.url, 'POST', `/api/restrictions/${restriction.id}/lift`, operator, {
      reason: 'customer fixed the runaway job',
    });
    expect(lifted.status).toBe(200);
    expect((await h.prisma.restriction.findUniqueOrThrow({ where: { id: restriction.id } })).status).toBe('LIFTED');
    expect(await store.get(world.flagged.id, 'account', null)).toBeNull();
    // Lifting again is refused: it is no longer active.
    const again = await api(h.url, 'POST', `/api/restrictions/${restriction.id}/lift`, operator, { reason: 'again' });
    expect(again.status).toBe(409);

    const audit = await h.prisma.auditEvent.findMany({
      where: { actorId: h.users.OPERATOR.id, action: { startsWith: 'dashboard.' } },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((e) => e.action)).toEqual([
      'dashboard.apply-restriction',
      'dashboard.apply-restriction',
      'dashboard.extend-restriction',
      'dashboard.lift-restriction',
    ]);
    expect(audit[3]).toMatchObject({
      targetType: 'restriction',
      targetId: restriction.id,
      reason: 'customer fixed the runaway job',
    });
  });

  it('dismisses a flag through the enforcer', async () => {
    const flag = await h.prisma.flag.findFirstOrThrow({ where: { kind: 'LIMIT_PRESSURE' } });
    const response = await api(h.url, 'POST', `/api/flags/${flag.id}/review`, operator, {
      decision: 'dismiss',
      reason: 'expected: their nightly import',
    });
    expect(response.status).toBe(200);
    expect((await h.prisma.flag.findUniqueOrThrow({ where: { id: flag.id } })).status).toBe('DISMISSED');
    const again = await api(h.url, 'POST', `/api/flags/${flag.id}/review`, operator, {
      decision: 'dismiss',
      reason: 'again',
    });
    expect(again.status).toBe(409);
  });

  it('approves a flag: the enforcer restricts the account on the ladder’s rung', async () => {
    const flag = await h.prisma.flag.findFirstOrThrow({ where: { kind: 'ERROR_STORM' } });
    const response = await api(h.url, 'POST', `/api/flags/${flag.id}/review`, operator, {
      decision: 'approve',
      reason: 'confirmed: their retry loop hammers us',
    });
    expect(response.status).toBe(200);
    expect(await h.prisma.flag.findUniqueOrThrow({ where: { id: flag.id } })).toMatchObject({
      reviewedBy: h.users.OPERATOR.id,
    });
    const restriction = await h.prisma.restriction.findFirstOrThrow({ where: { flagId: flag.id } });
    expect(restriction.status).toBe('ACTIVE');
  });

  it('approves a burst notice once, audited', async () => {
    const path = `/api/burst-notices/${world.burstNoticeId}/review`;
    const list = await api(h.url, 'GET', '/api/burst-notices', viewer);
    expect(list.body[0]).toMatchObject({ id: world.burstNoticeId, history: { notices: { PENDING: 1, APPROVED: 1 } } });
    expect((await api(h.url, 'POST', path, operator, { decision: 'approve', note: 'quarter end' })).status).toBe(200);
    expect((await api(h.url, 'POST', path, operator, { decision: 'reject', note: 'changed my mind' })).status).toBe(
      409,
    );
    const notice = await h.prisma.burstNotice.findUniqueOrThrow({ where: { id: world.burstNoticeId } });
    expect(notice).toMatchObject({ status: 'APPROVED', reviewedBy: h.users.OPERATOR.id, reviewNote: 'quarter end' });
    const audit = await api(h.url, 'GET', `/api/audit?action=burst-notice.*&targetId=${world.burstNoticeId}`, viewer);
    expect(audit.body.events).toHaveLength(1);
    expect(audit.body.events[0]).toMatchObject({ action: 'burst-notice.approve', actorEmail: h.users.OPERATOR.email });
  });

  it('edits plans and rules with validation, bumping the version the edges reload on, refusing stale edits', async () => {
    const plan = await h.prisma.plan.findUniqueOrThrow({ where: { id: world.planId }, include: { rules: true } });
    const rule = plan.rules.find((r) => r.name === 'per-token-minute')!;
    const body = {
      expectedVersion: plan.version,
      name: 'per-token-minute',
      scope: 'TOKEN',
      routes: [],
      cidrs: ['10.0.0.0/8'],
      windows: [
        { limit: 900, seconds: 60 },
        { limit: 20, seconds: 1 },
      ],
      cost: 1,
      concurrency: 10,
      failMode: 'LOCAL',
      shadow: false,
      countLimited: false,
      enabled: true,
      position: 0,
    };
    const saved = await api(h.url, 'PUT', `/api/plans/${plan.id}/rules/${rule.id}`, admin, body);
    expect(saved.status).toBe(200);
    expect(saved.body.version).toBe(plan.version + 1);
    const stored = await h.prisma.limitRule.findUniqueOrThrow({ where: { id: rule.id } });
    expect(stored).toMatchObject({ windows: body.windows, cidrs: ['10.0.0.0/8'], concurrency: 10, failMode: 'LOCAL' });
    // Someone still holding the old version is told so instead of overwriting.
    const stale = await api(h.url, 'PUT', `/api/plans/${plan.id}/rules/${rule.id}`, admin, { ...body, cost: 5 });
    expect(stale.status).toBe(409);
    expect((await h.prisma.limitRule.findUniqueOrThrow({ where: { id: rule.id } })).cost).toBe(1);

    const created = await api(h.url, 'POST', `/api/plans/${plan.id}/rules`, admin, {
      ...body,
      expectedVersion: plan.version + 1,
      name: 'bulk-exports',
      routes: ['POST /v1/exports'],
      cidrs: [],
      windows: [{ limit: 5, seconds: 3600, aligned: true }],
      concurrency: null,
    });
    expect(created.status).toBe(201);
    const newRule = (created.body.rules as { id: string; name: string }[]).find((r) => r.name === 'bulk-exports')!;
    const deleted = await api(
      h.url,
      'DELETE',
      `/api/plans/${plan.id}/rules/${newRule.id}?expectedVersion=${plan.version + 2}`,
      admin,
    );
    expect(deleted.status).toBe(200);
    const patched = await api(h.url, 'PATCH', `/api/plans/${plan.id}`, admin, {
      expectedVersion: plan.version + 3,
      limitStatusCode: 503,
    });
    expect(patched.body).toMatchObject({ limitStatusCode: 503, version: plan.version + 4 });
    const actions = (
      await h.prisma.auditEvent.findMany({ where: { actorId: h.users.ADMIN.id }, orderBy: { id: 'asc' } })
    )
      .map((e) => e.action)
      .filter((a) => !a.startsWith('auth.'));
    expect(actions).toEqual(['limit-rule.update', 'limit-rule.create', 'limit-rule.delete', 'plan.update']);
  });

  it('lists flagged accounts with filters, sorts and counts', async () => {
    const all = await api(h.url, 'GET', '/api/flags?sort=severity&order=desc', viewer);
    expect((all.body.flags as { severity: string }[]).map((f) => f.severity)).toEqual(['CRITICAL', 'HIGH']);
    const byAge = await api(h.url, 'GET', '/api/flags?sort=age&order=desc', viewer);
    expect(byAge.body.flags[0].kind).toBe('SUSTAINED_EXCESS');
    const high = await api(h.url, 'GET', '/api/flags?severity=HIGH,MEDIUM', viewer);
    expect((high.body.flags as { kind: string }[]).map((f) => f.kind)).toEqual(['ERROR_STORM']);
    const old = await api(h.url, 'GET', '/api/flags?olderThanHours=2', viewer);
    expect((old.body.flags as { kind: string }[]).map((f) => f.kind)).toEqual(['SUSTAINED_EXCESS']);
    const search = await api(h.url, 'GET', '/api/flags?search=northwind', viewer);
    expect(search.body.total).toBe(1);
    const counts = await api(h.url, 'GET', '/api/flags/counts', viewer);
    expect(counts.body).toMatchObject({ total: 2, severity: { CRITICAL: 1, HIGH: 1, MEDIUM: 0, LOW: 0 } });
  });

  it('serves the account page data: usage per minute, hour and day from rollups with the baseline band, top lists', async () => {
    const detail = await api(h.url, 'GET', `/api/accounts/${world.flagged.id}`, viewer);
    expect(detail.body).toMatchObject({ name: world.flagged.name, plan: { name: 'Growth' } });
    expect(detail.body.tokens[0]).not.toHaveProperty('secretHash');
    const minutes = await api(h.url, 'GET', `/api/accounts/${world.flagged.id}/usage?range=6h`, viewer);
    expect(minutes.body.unit).toBe('minute');
    expect(minutes.body.points).toHaveLength(360);
    // Thirty minutes ago the account ran far above the band the analyzer expected for that minute.
    const spike = (minutes.body.points as { t: string; requests: number }[]).at(-30)!;
    const band = (minutes.body.baseline as { t: string; high: number }[]).find((b) => b.t === spike.t)!;
    expect(spike.requests).toBeGreaterThan(band.high * 2);
    expect(minutes.body.baseline.length).toBeGreaterThan(300);
    const hours = await api(h.url, 'GET', `/api/accounts/${world.flagged.id}/usage?range=48h`, viewer);
    expect(hours.body.points).toHaveLength(48);
    const days = await api(h.url, 'GET', `/api/accounts/${world.flagged.id}/usage?range=28d`, viewer);
    expect(days.body.points).toHaveLength(28);
    const total = (points: { requests: number }[]) => points.reduce((s, p) => s + p.requests, 0);
    // All seeded traffic lies within both windows: hourly and daily sums of the same rollups agree.
    const week = await api(h.url, 'GET', `/api/accounts/${world.flagged.id}/usage?range=7d`, viewer);
    expect(week.body.points).toHaveLength(168);
    expect(total(days.body.points)).toBe(total(week.body.points));
    expect(total(days.body.points)).toBeGreaterThan(total(hours.body.points) * 0.9);
    const other = await api(h.url, 'GET', `/api/accounts/${world.accounts[3].id}/usage?range=6h`, viewer);
    expect(other.body.baseline).toBeNull();
    const top = await api(h.url, 'GET', `/api/accounts/${world.flagged.id}/top?range=24h`, viewer);
    expect(top.body.routes[0]).toMatchObject({ key: 'POST /v1/reports' });
    expect(top.body.tokens[0].label).toMatch(/^production/);
    expect(top.body.ips).toHaveLength(3);
    const overview = await api(h.url, 'GET', '/api/overview', viewer);
    expect(overview.body.requestsPerMinute).toBeGreaterThan(0);
    expect(overview.body.series).toHaveLength(61);
    const missing = await api(h.url, 'GET', `/api/accounts/${world.planId}/usage`, viewer);
    expect(missing.status).toBe(404);
  });

  it('resends a held email through the enforcer, to the account’s current contacts, once', async () => {
    const accountId = world.accounts[2].id;
    const contacts = await h.prisma.notificationContact.findMany({ where: { accountId }, orderBy: { email: 'asc' } });
    expect(contacts.length).toBeGreaterThan(0);
    const held = await h.prisma.notification.create({
      data: {
        accountId,
        kind: 'RESTRICTION_APPLIED',
        idempotencyKey: `test:held:${accountId}`,
        recipients: [],
        subject: 'API access restricted',
        status: 'FAILED',
        attempts: 1,
        lastError: 'unconfirmed: the connection broke after DATA',
        messageId: '<notification.held@provider.test>',
      },
    });
    const heldBefore = (await api(h.url, 'GET', '/api/overview', viewer)).body.heldEmails as number;
    expect(heldBefore).toBe(await h.prisma.notification.count({ where: { status: 'FAILED' } }));
    expect(heldBefore).toBeGreaterThanOrEqual(1);
    const path = `/api/notifications/${held.id}/resend`;
    expect((await api(h.url, 'POST', path, viewer, { reason: 'checked the relay log' })).status).toBe(403);
    const invalid = await api(h.url, 'POST', path, operator, { reason: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });

    const resent = await api(h.url, 'POST', path, operator, { reason: 'not in the relay log' });
    expect(resent.status).toBe(200);
    expect(resent.body.result).toMatchObject({ outcome: 'released', recipients: contacts.map((c) => c.email) });
    // Released: pending again, its claim cleared, its send job queued (this harness serves no mail queue).
    expect(await h.prisma.notification.findUniqueOrThrow({ where: { id: held.id } })).toMatchObject({
      status: 'PENDING',
      messageId: null,
      lastError: null,
      recipients: contacts.map((c) => c.email),
    });
    expect((await api(h.url, 'GET', '/api/overview', viewer)).body.heldEmails).toBe(heldBefore - 1);
    const again = await api(h.url, 'POST', path, operator, { reason: 'clicked twice' });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/not held/);
    const unknown = await api(h.url, 'POST', `/api/notifications/${world.planId}/resend`, operator, {
      reason: 'x-y-z',
    });
    expect(unknown.status).toBe(404);
    const audit = await h.prisma.auditEvent.findMany({ where: { targetId: held.id }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['notification.released', 'dashboard.resend-notification']);
  });
});
