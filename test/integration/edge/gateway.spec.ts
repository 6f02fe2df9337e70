import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@usageguard/testing';
import {
  bearer,
  createEdgeWorld,
  type EdgeProcess,
  type EdgeWorld,
  startEdge,
  startUpstream,
  type Upstream,
} from './edge-harness';

describe('edge gateway (real Postgres, Redis, Kafka; edge as its own process)', () => {
  let world: EdgeWorld;
  let upstream: Upstream;
  let edge: EdgeProcess;

  beforeAll(async () => {
    world = await createEdgeWorld();
    upstream = await startUpstream();
    edge = await startEdge({ ...world.env.env, EDGE_UPSTREAM_URL: upstream.url, EDGE_AUTH_CACHE_MS: '500' });
  });

  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
    await world?.cleanup();
  });

  it('answers 401 for a missing or unknown key, without reaching the upstream', async () => {
    const before = upstream.seen.length;
    const missing = await fetch(`${edge.url}/v1/x`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized', code: 'missing_api_key' });
    const unknown = await fetch(`${edge.url}/v1/x`, { headers: bearer('ug_live_nope') });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ code: 'unknown_api_key' });
    expect(upstream.seen.length).toBe(before);
  });

  it('streams an allowed request to the upstream with its body and returns rate-limit headers', async () => {
    const acct = await world.account('keebai-standard');
    const res = await fetch(`${edge.url}/v1/contacts/42?x=1`, {
      method: 'POST',
      headers: { ...bearer(acct.secret), 'content-type': 'application/json', 'x-request-id': 'req-abc' },
      body: JSON.stringify({ hello: 'x'.repeat(10_000) }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      method: 'POST',
      url: '/v1/contacts/42?x=1',
      account: acct.accountId,
      bytes: 10_012,
    });
    expect(res.headers.get('x-request-id')).toBe('req-abc');
    expect(res.headers.get('x-ratelimit-limit')).toBe('60');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('59');
    expect(res.headers.get('ratelimit-policy')).toBe('"per-token-60s";q=60;w=60, "per-token-3600s";q=1000;w=3600');
  });

  it("passes the upstream's own error statuses through", async () => {
    const acct = await world.account('keebai-standard');
    const res = await fetch(`${edge.url}/v1/fail?status=500`, { headers: bearer(acct.secret) });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-ratelimit-remaining')).toBe('59');
  });

  it('a revoked key is refused within seconds', async () => {
    const acct = await world.account('keebai-standard');
    expect((await fetch(`${edge.url}/v1/x`, { headers: bearer(acct.secret) })).status).toBe(200);
    await world.prisma.apiToken.update({ where: { id: acct.tokenId }, data: { revokedAt: new Date() } });
    const res = await waitFor(
      async () => {
        const r = await fetch(`${edge.url}/v1/x`, { headers: bearer(acct.secret) });
        return r.status === 401 ? r : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'the revocation to reach the edge' },
    );
    expect(await res.json()).toMatchObject({ code: 'revoked_api_key' });
  });

  it('serves /health and /metrics on the admin port', async () => {
    const health = await fetch(`${edge.adminUrl}/health`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
    expect(metrics).toContain('usageguard_edge_limiter_decisions_total');
  });
});
