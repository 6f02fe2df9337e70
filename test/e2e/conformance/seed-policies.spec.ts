import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestrictionStore } from '@usageguard/redis';
import { waitFor } from '@usageguard/testing';
import {
  bearer,
  createEdgeWorld,
  type EdgeProcess,
  type EdgeWorld,
  startEdge,
  startUpstream,
  type Upstream,
} from '../../integration/edge/edge-harness';

/**
 * The five published policies in shared/seeds, written as configuration (prisma/demo-data.ts, docs/policies.md)
 * and checked black-box through the gateway: only HTTP in, HTTP out.
 */
const STATUS_PATH = '/api/v1/public/keys/rate-limit';

describe('seed policies through the gateway', () => {
  let world: EdgeWorld;
  let upstream: Upstream;
  let edge: EdgeProcess;

  beforeAll(async () => {
    world = await createEdgeWorld();
    upstream = await startUpstream();
    edge = await startEdge({
      ...world.env.env,
      EDGE_UPSTREAM_URL: upstream.url,
      EDGE_STATUS_PATH: STATUS_PATH,
      EDGE_TRUST_PROXY: 'true',
      EDGE_REDIS_TIMEOUT_MS: '2000',
    });
  });

  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
    await world?.cleanup();
  });

  const get = async (path: string, headers: Record<string, string>, method = 'GET') => {
    const res = await fetch(`${edge.url}${path}`, { method, headers });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  const burst = async (n: number, path: string, headers: (i: number) => Record<string, string>, method = 'GET') => {
    // Minute (and hour) windows slide: a burst that straddles the top of a minute is judged partly against the
    // previous minute's decaying count and may admit a request or two beyond the limit (the sliding-window trade-off
    // docs/limiter.md describes). These checks count exactly, so a burst never starts in a minute's last 10 s.
    const leftInMinute = 60_000 - (Date.now() % 60_000);
    if (leftInMinute < 10_000) await new Promise((resolve) => setTimeout(resolve, leftInMinute + 50));
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await get(path, headers(i), method)).status);
    return out;
  };
  const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

  describe('000 Kobble: reasonable use', () => {
    it('accepts every request: no rate limit, no rate-limit headers', async () => {
      const acct = await world.account('kobble-reasonable-use');
      const statuses = await burst(150, '/v1/items', () => bearer(acct.secret));
      expect(count(statuses, 200)).toBe(150);
      const res = await get('/v1/items', bearer(acct.secret));
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    });

    it('a restriction answers 503 (or 429) with Retry-After and a reason code, and is lifted', async () => {
      const acct = await world.account('kobble-reasonable-use');
      const store = new RestrictionStore(world.redis);
      const base = {
        id: 'kobble-1',
        accountId: acct.accountId,
        scope: 'account' as const,
        scopeValue: null,
        mode: 'block' as const,
        throttleFactor: null,
        reasonCode: 'sustained_excess',
        reason: 'Usage above reasonable thresholds; contact your account manager.',
        expiresAt: Date.now() + 1_800_000,
      };
      await store.put({ ...base, statusCode: 503, version: 1 });
      const blocked = await waitFor(
        async () => {
          const r = await get('/v1/items', bearer(acct.secret));
          return r.status === 503 ? r : undefined;
        },
        { timeoutMs: 1_000, intervalMs: 20, what: 'the 503 restriction' },
      );
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(1_790);
      expect(blocked.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'sustained_excess' });

      await store.put({ ...base, statusCode: 429, version: 2 });
      await waitFor(async () => (await get('/v1/items', bearer(acct.secret))).status === 429, {
        timeoutMs: 1_000,
        intervalMs: 20,
        what: 'the 429 restriction',
      });
      await store.remove(acct.accountId, 'account', null, 3);
      await waitFor(async () => (await get('/v1/items', bearer(acct.secret))).status === 200, {
        timeoutMs: 1_000,
        intervalMs: 20,
        what: 'the lift',
      });
    });
  });

  describe('001 Keebai: per token, 60/minute and 1,000/hour at once', () => {
    it('the 61st request in a minute gets 429 with the ThrottlerException body', async () => {
      const acct = await world.account('keebai-standard');
      const statuses = await burst(60, '/v1/contacts', () => bearer(acct.secret));
      expect(count(statuses, 200)).toBe(60);
      const limited = await get('/v1/contacts', bearer(acct.secret));
      expect(limited.status).toBe(429);
      expect(limited.headers.get('content-type')).toBe('application/json');
      expect(limited.json()).toMatchObject({ message: 'ThrottlerException: Too Many Requests', statusCode: 429 });
      expect(limited.headers.get('x-ratelimit-rule')).toBe('per-token');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('counts per token, not per account or IP: a second token of the same account has its own quota', async () => {
      const acct = await world.account('keebai-standard', 2);
      await burst(60, '/v1/contacts', () => bearer(acct.secret));
      expect((await get('/v1/contacts', bearer(acct.secret))).status).toBe(429);
      const other = acct.extra[0];
      expect(count(await burst(60, '/v1/contacts', () => bearer(other.secret)), 200)).toBe(60);
    });

    it('enforces both windows at once: the hourly one counts every admitted request', async () => {
      const acct = await world.account('keebai-standard');
      const res = await get('/v1/contacts', bearer(acct.secret));
      expect(res.headers.get('ratelimit-policy')).toBe('"per-token-60s";q=60;w=60, "per-token-3600s";q=1000;w=3600');
      expect(res.headers.get('ratelimit')).toMatch(/^"per-token-60s";r=59;t=\d+, "per-token-3600s";r=999;t=\d+$/);
    });

    it('401 in the NestJS shape for invalid or revoked tokens', async () => {
      const acct = await world.account('keebai-standard');
      await world.prisma.apiToken.update({ where: { id: acct.tokenId }, data: { revokedAt: new Date() } });
      const res = await get('/v1/contacts', bearer(acct.secret));
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ error: 'Unauthorized', statusCode: 401 });
      expect(typeof res.json().message).toBe('string');
    });
  });

  describe('002 license API: per IP, per token, stricter on license endpoints', () => {
    it('license validation and activation share a stricter 30/minute per token; other endpoints stay open', async () => {
      const acct = await world.account('licensing-standard');
      const ip = (i: number) => ({ ...bearer(acct.secret), 'x-forwarded-for': `198.51.100.${i % 5}` });
      expect(count(await burst(20, '/v1/licenses/validate', ip, 'POST'), 200)).toBe(20);
      expect(count(await burst(10, '/v1/licenses/activate', ip, 'POST'), 200)).toBe(10);
      const limited = await get('/v1/licenses/validate', ip(0), 'POST');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('x-ratelimit-rule')).toBe('license-validation');
      expect((await get('/v1/licenses/activate', ip(1), 'POST')).status).toBe(429);
      expect((await get('/v1/licenses', ip(2))).status).toBe(200);
      expect((await get('/v1/licenses/validate', ip(3))).status).toBe(200); // GET is not the limited operation
    });

    it('limits a source IP (300/minute) across tokens', async () => {
      const acct = await world.account('licensing-standard', 2);
      const from = (secret: string) => ({ ...bearer(secret), 'x-forwarded-for': '203.0.113.9' });
      const statuses = await burst(300, '/v1/products', (i) => from(i % 2 ? acct.secret : acct.extra[0].secret));
      expect(count(statuses, 200)).toBe(300);
      const limited = await get('/v1/products', from(acct.secret));
      expect(limited.status).toBe(429);
      expect(limited.headers.get('x-ratelimit-rule')).toBe('per-ip');
      // Another address of the same token is not affected.
      expect((await get('/v1/products', { ...bearer(acct.secret), 'x-forwarded-for': '203.0.113.10' })).status).toBe(
        200,
      );
    });

    it('limits a token (600/minute) across addresses', async () => {
      const acct = await world.account('licensing-standard');
      const statuses = await burst(600, '/v1/products', (i) => ({
        ...bearer(acct.secret),
        'x-forwarded-for': `192.0.2.${i % 3}`,
      }));
      expect(count(statuses, 200)).toBe(600);
      const limited = await get('/v1/products', { ...bearer(acct.secret), 'x-forwarded-for': '192.0.2.200' });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('x-ratelimit-rule')).toBe('per-token');
    });
  });

  describe('003 Kinde: rate limiter plus concurrency limiter, RateLimit-Reset', () => {
    it('RateLimit-Reset gives the seconds until the limit resets; 429 when the rate is exceeded', async () => {
      const acct = await world.account('kinde-standard');
      const first = await get('/api/v1/users', bearer(acct.secret));
      const reset = Number(first.headers.get('ratelimit-reset'));
      expect(Number.isInteger(reset)).toBe(true);
      expect(reset).toBeGreaterThan(0);
      expect(reset).toBeLessThanOrEqual(120);
      expect(count(await burst(119, '/api/v1/users', () => bearer(acct.secret)), 200)).toBe(119);
      const limited = await get('/api/v1/users', bearer(acct.secret));
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    });

    it('sheds requests beyond 10 in flight, whatever the rate', async () => {
      const acct = await world.account('kinde-standard');
      const statuses = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${edge.url}/api/v1/subscribers?delay=1500`, { headers: bearer(acct.secret) }).then(async (r) => {
            await r.arrayBuffer();
            return r.status;
          }),
        ),
      );
      expect(count(statuses, 200)).toBe(10);
      expect(count(statuses, 429)).toBe(2);
    });
  });

  describe('004 Klinky: plans, hourly windows at the top of the hour UTC, per account across keys', () => {
    beforeAll(async () => {
      // The hourly window resets at the top of the hour: stay clear of it so one test sees one window.
      const intoHour = Date.now() % 3_600_000;
      if (intoHour > 3_600_000 - 30_000) await new Promise((r) => setTimeout(r, 3_600_000 - intoHour + 1_000));
    });

    it('Free and Starter have no API access: 403 with a clear message', async () => {
      for (const plan of ['klinky-free', 'klinky-starter']) {
        const acct = await world.account(plan);
        const res = await get('/api/v1/public/links', { 'x-api-key': acct.secret });
        expect(res.status).toBe(403);
        expect(res.json().detail).toMatch(/API access is not included in the Klinky (Free|Starter) plan/);
      }
    });

    it('Growth: 100/hour per account across all keys; 429 with {"detail"} and the documented headers', async () => {
      const acct = await world.account('klinky-growth', 2);
      const keys = [acct.secret, acct.extra[0].secret];
      const first = await get('/api/v1/public/links', { 'x-api-key': keys[0] });
      const topOfHour = Math.ceil(Date.now() / 3_600_000) * 3_600;
      expect(first.headers.get('x-ratelimit-limit')).toBe('100');
      expect(first.headers.get('x-ratelimit-remaining')).toBe('99');
      expect(first.headers.get('x-ratelimit-reset')).toBe(String(topOfHour));
      const statuses = await burst(99, '/api/v1/public/links', (i) => ({ 'x-api-key': keys[i % 2] }));
      expect(count(statuses, 200)).toBe(99);

      const limited = await get('/api/v1/public/links', { 'x-api-key': keys[1] });
      expect(limited.status).toBe(429);
      expect(limited.json()).toEqual({ detail: 'Rate limit exceeded. Please try again later.', code: 'rate_limited' });
      expect(limited.headers.get('x-ratelimit-limit')).toBe('100');
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(limited.headers.get('x-ratelimit-reset')).toBe(String(topOfHour));
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(Math.abs(retryAfter - (topOfHour - Date.now() / 1000))).toBeLessThanOrEqual(2);
    });

    it('the status endpoint reports the window without consuming a request', async () => {
      const acct = await world.account('klinky-scale');
      const auth = { authorization: `Bearer ${acct.secret}` };
      await burst(3, '/api/v1/public/links', () => auth);
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push(await get(STATUS_PATH, auth));
      const topOfHour = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000).toISOString().replace('.000Z', 'Z');
      for (const s of statuses) {
        expect(s.status).toBe(200);
        expect(s.json()).toEqual({ limit: 1000, remaining: 997, reset_at: topOfHour });
      }
      const next = await get('/api/v1/public/links', auth);
      expect(next.headers.get('x-ratelimit-remaining')).toBe('996');
      expect(upstream.seen.some((r) => r.url === STATUS_PATH)).toBe(false);
    });

    it('failed requests count; 429 responses do not', async () => {
      const acct = await world.account('klinky-growth');
      const key = { 'x-api-key': acct.secret };
      expect((await get('/api/v1/public/links?status=500', key)).status).toBe(500);
      expect((await get(STATUS_PATH, key)).json()).toMatchObject({ remaining: 99 });
      await burst(99, '/api/v1/public/links', () => key);
      for (let i = 0; i < 5; i++) expect((await get('/api/v1/public/links', key)).status).toBe(429);
      expect((await get(STATUS_PATH, key)).json()).toMatchObject({ remaining: 0 });
    });
  });
});
