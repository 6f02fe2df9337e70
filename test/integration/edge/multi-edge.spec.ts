import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestrictionRecord } from '@usageguard/contracts';
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
} from './edge-harness';

/** Two edge processes over the same Redis, as in production: they must behave as one limiter. */
describe('two edges, one Redis', () => {
  let world: EdgeWorld;
  let upstream: Upstream;
  let edges: EdgeProcess[];

  beforeAll(async () => {
    world = await createEdgeWorld();
    upstream = await startUpstream();
    // A generous Redis timeout: these tests are about a healthy Redis (redis-outage.spec.ts covers the other case),
    // and a 2-core machine under a burst can delay a reply past the production default.
    const env = {
      ...world.env.env,
      EDGE_UPSTREAM_URL: upstream.url,
      EDGE_LEASE_MS: '120000',
      EDGE_REDIS_TIMEOUT_MS: '2000',
    };
    edges = await Promise.all([startEdge(env), startEdge(env)]);
  });

  afterAll(async () => {
    await Promise.all((edges ?? []).map((e) => e.stop()));
    await upstream?.close();
    await world?.cleanup();
  });

  it('never over-admits under concurrent load split across both edges (Keebai: 60 per minute per token)', async () => {
    const acct = await world.account('keebai-standard');
    const before = upstream.seen.length;
    const statuses = await Promise.all(
      Array.from({ length: 240 }, (_, i) =>
        fetch(`${edges[i % 2].url}/v1/contacts`, { headers: bearer(acct.secret) }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(180);
    expect(upstream.seen.length - before).toBe(60);
  });

  it('caps requests in flight per account across both edges and releases leases on finish (Kinde: 10)', async () => {
    const acct = await world.account('kinde-standard');
    const slow = Array.from({ length: 14 }, (_, i) =>
      fetch(`${edges[i % 2].url}/v1/users?delay=1500`, { headers: bearer(acct.secret) }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    );
    const statuses = await Promise.all(slow);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    // Every lease was released when its response finished: ten more fit at once.
    const next = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetch(`${edges[i % 2].url}/v1/users`, { headers: bearer(acct.secret) }).then((r) => r.status),
      ),
    );
    expect(next.every((s) => s === 200)).toBe(true);
  });

  it('releases a lease when the client aborts, long before the lease would expire', async () => {
    const acct = await world.account('kinde-standard');
    const controllers = Array.from({ length: 10 }, () => new AbortController());
    const pending = controllers.map((c, i) =>
      fetch(`${edges[i % 2].url}/v1/users?delay=60000`, { headers: bearer(acct.secret), signal: c.signal }).catch(
        () => 'aborted',
      ),
    );
    await waitFor(() => upstream.inFlight() >= 10, { what: 'ten requests in flight at the upstream' });
    const full = await fetch(`${edges[0].url}/v1/users`, { headers: bearer(acct.secret) });
    expect(full.status).toBe(429);
    expect(await full.json()).toMatchObject({ statusCode: 429 });
    const abortedBefore = upstream.aborted();
    controllers.forEach((c) => c.abort());
    expect(await Promise.all(pending)).toEqual(Array(10).fill('aborted'));
    // The edge aborted the upstream requests too and gave the leases back.
    await waitFor(() => upstream.aborted() - abortedBefore >= 10, { what: 'upstream requests aborted' });
    const after = await waitFor(
      async () => {
        const r = await fetch(`${edges[1].url}/v1/users`, { headers: bearer(acct.secret) });
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'a lease to be free again' },
    );
    expect(after.status).toBe(200);
  });

  it('applies a restriction on every edge within a second, throttles, and lifts it', async () => {
    const acct = await world.account('kobble-reasonable-use');
    const store = new RestrictionStore(world.redis);
    for (const e of edges) expect((await fetch(`${e.url}/v1/x`, { headers: bearer(acct.secret) })).status).toBe(200);

    const block: RestrictionRecord = {
      id: 'r1',
      accountId: acct.accountId,
      scope: 'account',
      scopeValue: null,
      mode: 'block',
      throttleFactor: null,
      statusCode: 503,
      reasonCode: 'sustained_excess',
      reason: 'Sustained traffic far above your usual pattern.',
      expiresAt: Date.now() + 600_000,
      version: 1,
    };
    await store.put(block);
    // The contract's deadline: one second from the write, on every edge.
    await Promise.all(
      edges.map((e) =>
        waitFor(async () => (await fetch(`${e.url}/v1/x`, { headers: bearer(acct.secret) })).status === 503, {
          timeoutMs: 1_000,
          intervalMs: 20,
          what: `the block on ${e.url}`,
        }),
      ),
    );
    const blocked = await fetch(`${edges[0].url}/v1/x`, { headers: bearer(acct.secret) });
    expect(blocked.status).toBe(503);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(590);
    expect(await blocked.json()).toMatchObject({
      statusCode: 503,
      code: 'sustained_excess',
      message: 'Sustained traffic far above your usual pattern.',
    });

    // Throttle to a tenth of the plan's prior rate (Kobble has no rules: 30/min × 0.1 = 3/min).
    await store.put({ ...block, mode: 'throttle', throttleFactor: 0.1, statusCode: 429, version: 2 });
    await Promise.all(
      edges.map((e) =>
        waitFor(async () => (await fetch(`${e.url}/v1/x`, { headers: bearer(acct.secret) })).status !== 503, {
          timeoutMs: 1_000,
          intervalMs: 20,
          what: `the throttle on ${e.url}`,
        }),
      ),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await fetch(`${edges[i % 2].url}/v1/x`, { headers: bearer(acct.secret) })).status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses.at(-1)).toBe(429);

    // An older version never overrides a newer one; a removal lifts it everywhere.
    await store.remove(acct.accountId, 'account', null, 3);
    await Promise.all(
      edges.map((e) =>
        waitFor(async () => (await fetch(`${e.url}/v1/y`, { headers: bearer(acct.secret) })).status === 200, {
          timeoutMs: 1_000,
          intervalMs: 20,
          what: `the lift on ${e.url}`,
        }),
      ),
    );
  });

  it('answers 403 with a clear message for a plan without API access (Klinky Free)', async () => {
    const acct = await world.account('klinky-free');
    const res = await fetch(`${edges[0].url}/api/v1/public/links`, { headers: { 'x-api-key': acct.secret } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      detail: 'API access is not included in the Klinky Free plan. Upgrade your plan to use the API.',
      code: 'no_api_access',
    });
  });
});
