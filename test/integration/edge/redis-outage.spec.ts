import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy, waitFor } from '@usageguard/testing';
import type { DemoPlan } from '../../../prisma/demo-data';
import {
  bearer,
  createEdgeWorld,
  type EdgeProcess,
  type EdgeWorld,
  startEdge,
  startUpstream,
  type Upstream,
} from './edge-harness';

const plan = (key: string, failMode: 'OPEN' | 'CLOSED' | 'LOCAL', limit: number): DemoPlan => ({
  key,
  name: key,
  description: '',
  apiAccess: true,
  errorStyle: 'NESTJS',
  limitStatusCode: 429,
  priorPerMinute: 10,
  rules: [{ name: `${key}-rule`, scope: 'ACCOUNT', windows: [{ limit, seconds: 3600 }], failMode }],
});

/** Redis goes away under a running edge (a TCP proxy cut, never the shared server) and comes back. */
describe('edge when Redis fails', () => {
  let world: EdgeWorld;
  let upstream: Upstream;
  let proxy: TcpProxy;
  let edge: EdgeProcess;

  beforeAll(async () => {
    world = await createEdgeWorld([plan('open', 'OPEN', 2), plan('closed', 'CLOSED', 100), plan('local', 'LOCAL', 10)]);
    upstream = await startUpstream();
    const redisUrl = new URL(world.env.config.redis.url);
    proxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    redisUrl.port = String(proxy.port);
    edge = await startEdge({
      ...world.env.env,
      REDIS_URL: redisUrl.toString(),
      EDGE_UPSTREAM_URL: upstream.url,
      EDGE_REDIS_TIMEOUT_MS: '300',
      EDGE_BREAKER_OPEN_MS: '300',
      EDGE_LOCAL_SHARE: '0.5',
    });
  });

  afterAll(async () => {
    proxy?.restore();
    await edge?.stop();
    await proxy?.close();
    await upstream?.close();
    await world?.cleanup();
  });

  const status = async (secret: string) => {
    const res = await fetch(`${edge.url}/v1/items`, { headers: bearer(secret) });
    await res.arrayBuffer();
    return res;
  };
  const statuses = async (secret: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await status(secret)).status);
    return out;
  };

  it('applies each rule’s fail mode during the outage and recovers by itself', async () => {
    const limitedBefore = await world.account('open');
    const open = await world.account('open');
    const closed = await world.account('closed');
    const local = await world.account('local');
    // Redis up: the limiter works and one account is already over its limit.
    expect(await statuses(limitedBefore.secret, 3)).toEqual([200, 200, 429]);
    expect(await statuses(closed.secret, 1)).toEqual([200]);

    proxy.cut();

    // OPEN: requests pass uncounted.
    expect(await statuses(open.secret, 4)).toEqual([200, 200, 200, 200]);
    // A key known to be over its limit stays blocked from the local cache of blocked keys.
    const stillBlocked = await status(limitedBefore.secret);
    expect(stillBlocked.status).toBe(429);
    expect(Number(stillBlocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // CLOSED: 503 with Retry-After and a reason code.
    const refused = await fetch(`${edge.url}/v1/items`, { headers: bearer(closed.secret) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ statusCode: 503, code: 'limiter_unavailable' });
    // LOCAL: this edge's share (10 × 0.5 = 5) of the limit, counted in memory.
    expect(await statuses(local.secret, 7)).toEqual([200, 200, 200, 200, 200, 429, 429]);

    proxy.restore();

    // The circuit half-opens, a probe succeeds, and Redis decides again without a restart.
    await waitFor(async () => (await status(closed.secret)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'the fail-closed rule to admit again',
    });
    const fresh = await world.account('open');
    expect(await statuses(fresh.secret, 3)).toEqual([200, 200, 429]);
    // Requests let through while Redis was away were not counted: the OPEN account still has its two.
    expect(await statuses(open.secret, 3)).toEqual([200, 200, 429]);
  });
});
