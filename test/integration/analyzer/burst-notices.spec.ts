import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSecret } from '@usageguard/domain';
import { startAnalyzerApp, type AnalyzerApp } from '../../../bench/scenarios/analyzer-app';

const HOUR = 3_600_000;

describe('customer burst-notice API (POST/GET/DELETE /v1/burst-notices)', () => {
  let app: AnalyzerApp;
  let secret: string;
  let otherSecret: string;
  let accountId: string;

  const call = (method: string, path: string, body?: unknown, token: string | null = secret) =>
    fetch(`${app.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    app = await startAnalyzerApp();
    const plan = await app.prisma.plan.create({ data: { key: 'p', name: 'P' } });
    const make = async (name: string) => {
      const account = await app.prisma.account.create({ data: { name, planId: plan.id } });
      const issued = issueSecret();
      await app.prisma.apiToken.create({
        data: { accountId: account.id, name: 'main', prefix: issued.prefix, secretHash: issued.hash },
      });
      return { account, secret: issued.secret };
    };
    const mine = await make('Initech');
    const other = await make('Globex');
    accountId = mine.account.id;
    secret = mine.secret;
    otherSecret = other.secret;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('refuses a missing, unknown or revoked token', async () => {
    expect((await call('GET', '/v1/burst-notices', undefined, null)).status).toBe(401);
    const unknown = await call('GET', '/v1/burst-notices', undefined, 'ug_live_nope');
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ statusCode: 401, code: 'invalid_api_token' });
    const issued = issueSecret();
    await app.prisma.apiToken.create({
      data: { accountId, name: 'old', prefix: issued.prefix, secretHash: issued.hash, revokedAt: new Date() },
    });
    expect((await call('GET', '/v1/burst-notices', undefined, issued.secret)).status).toBe(401);
  });

  it('accepts a notice stated in local time of a zone, 48 hours ahead, as pending and on time', async () => {
    const day = new Date(Date.now() + 4 * 24 * HOUR).toISOString().slice(0, 10);
    const response = await call('POST', '/v1/burst-notices', {
      startsAt: `${day}T09:00`,
      durationMinutes: 120,
      timezone: 'Asia/Tokyo',
      expectedPerMinute: 2000,
      endpoints: ['POST /v1/import'],
      context: 'quarterly reconciliation',
    });
    expect(response.status).toBe(201);
    const notice = (await response.json()) as { id: string; startsAt: string; endsAt: string };
    expect(notice).toMatchObject({
      status: 'PENDING',
      late: false,
      timezone: 'Asia/Tokyo',
      startsAt: `${day}T00:00:00.000Z`,
      expectedPerMinute: 2000,
      endpoints: ['POST /v1/import'],
    });
    expect(Date.parse(notice.endsAt) - Date.parse(notice.startsAt)).toBe(2 * HOUR);
    const stored = await app.prisma.burstNotice.findUniqueOrThrow({ where: { id: notice.id } });
    expect(stored).toMatchObject({ accountId, submittedByType: 'CUSTOMER' });
    const audit = await app.prisma.auditEvent.findFirst({ where: { targetId: notice.id } });
    expect(audit?.action).toBe('burst_notice.submitted');
  });

  it('accepts a late notice and marks it late', async () => {
    const startsAt = new Date(Date.now() + 2 * HOUR).toISOString();
    const endsAt = new Date(Date.now() + 5 * HOUR).toISOString();
    const response = await call('POST', '/v1/burst-notices', {
      startsAt,
      endsAt,
      timezone: 'UTC',
      expectedPerHour: 50_000,
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ late: true, expectedPerHour: 50_000, expectedPerMinute: null });
  });

  it('rejects bad windows, zones, volumes and unknown fields with the one error shape', async () => {
    const soon = new Date(Date.now() + 50 * HOUR).toISOString();
    const cases: [unknown, string | RegExp][] = [
      [{ startsAt: soon, durationMinutes: 60, timezone: 'Mars/Base', expectedPerMinute: 5 }, 'invalid_timezone'],
      [{ startsAt: soon, durationMinutes: 60, timezone: 'UTC' }, 'missing_volume'],
      [{ startsAt: soon, endsAt: soon, timezone: 'UTC', expectedPerMinute: 5 }, 'invalid_window'],
      [{ startsAt: 'soon', durationMinutes: 60, timezone: 'UTC', expectedPerMinute: 5 }, 'invalid_window'],
      [{ startsAt: '2020-01-01T00:00Z', durationMinutes: 60, timezone: 'UTC', expectedPerMinute: 5 }, 'invalid_window'],
    ];
    for (const [body, code] of cases) {
      const response = await call('POST', '/v1/burst-notices', body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ statusCode: 400, code });
    }
    const unknownField = await call('POST', '/v1/burst-notices', {
      startsAt: soon,
      durationMinutes: 60,
      timezone: 'UTC',
      expectedPerMinute: 5,
      accountId: 'someone-else',
    });
    expect(unknownField.status).toBe(400);
    const badEndpoint = await call('POST', '/v1/burst-notices', {
      startsAt: soon,
      durationMinutes: 60,
      timezone: 'UTC',
      expectedPerMinute: 5,
      endpoints: ['not a route'],
    });
    expect(badEndpoint.status).toBe(400);
  });

  it("lists and reads only the caller's own notices", async () => {
    const mine = (await (await call('GET', '/v1/burst-notices')).json()) as { id: string }[];
    expect(mine).toHaveLength(2);
    const theirs = await call('GET', '/v1/burst-notices', undefined, otherSecret);
    expect(await theirs.json()).toEqual([]);
    expect((await call('GET', `/v1/burst-notices/${mine[0].id}`)).status).toBe(200);
    expect((await call('GET', `/v1/burst-notices/${mine[0].id}`, undefined, otherSecret)).status).toBe(404);
    const pending = await call('GET', '/v1/burst-notices?status=PENDING');
    expect(((await pending.json()) as unknown[]).length).toBe(2);
  });

  it('cancels a notice once; another account cannot', async () => {
    const [notice] = (await (await call('GET', '/v1/burst-notices')).json()) as { id: string }[];
    expect((await call('DELETE', `/v1/burst-notices/${notice.id}`, undefined, otherSecret)).status).toBe(404);
    const cancelled = await call('DELETE', `/v1/burst-notices/${notice.id}`);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: notice.id, status: 'CANCELLED' });
    const again = await call('DELETE', `/v1/burst-notices/${notice.id}`);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'not_cancellable' });
  });
});
