import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRequestLogEvent, type RequestLogEvent, requestLogLines, TOPICS } from '@usageguard/contracts';
import { KafkaRepository } from '@usageguard/kafka';
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

  it('publishes one request log event per request to Kafka, naming the rule when limited', async () => {
    const acct = await world.account('keebai-standard');
    for (let i = 0; i < 61; i++) {
      const r = await fetch(`${edge.url}/v1/contacts/${i}`, { headers: bearer(acct.secret) });
      await r.arrayBuffer();
    }
    const kafka = new KafkaRepository(world.env.config);
    const consumer = kafka.consumer({ groupId: 'edge-test' });
    const events: RequestLogEvent[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: kafka.topic(TOPICS.requestLogs), fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          // The edge groups an account's events of a batch into one message, one event per line.
          for (const line of requestLogLines(message.value)) {
            const parsed = decodeRequestLogEvent(line);
            if (!parsed.ok) throw new Error(parsed.reason);
            if (parsed.event.accountId === acct.accountId) events.push(parsed.event);
          }
          await Promise.resolve();
        },
      });
      await waitFor(() => events.length >= 61, { timeoutMs: 30_000, what: '61 request log events' });
    } finally {
      await kafka.onModuleDestroy();
    }
    expect(events).toHaveLength(61);
    const allowed = events.filter((e) => e.decision === 'allowed');
    expect(allowed).toHaveLength(60);
    expect(allowed[0]).toMatchObject({
      v: 1,
      tokenId: acct.tokenId,
      method: 'GET',
      route: '/v1/contacts/:id',
      status: 200,
      operation: 'read',
      clientIp: '127.0.0.1',
    });
    const limited = events.find((e) => e.decision === 'limited');
    expect(limited).toMatchObject({ status: 429, rule: 'per-token' });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(61);
  });

  it('renders problem+json listing every violated policy for a plan that asks for it', async () => {
    const plan = await world.prisma.plan.create({
      data: { key: 'problem', name: 'Problem', errorStyle: 'PROBLEM_JSON' },
    });
    for (const [position, name] of ['a', 'b'].entries()) {
      await world.prisma.limitRule.create({
        data: { planId: plan.id, name, scope: 'ACCOUNT', windows: [{ limit: 1, seconds: 60 }], position },
      });
    }
    const acct = await world.account('keebai-standard');
    await world.prisma.account.update({ where: { id: acct.accountId }, data: { planId: plan.id } });
    expect((await fetch(`${edge.url}/v1/x`, { headers: bearer(acct.secret) })).status).toBe(200);
    const res = await fetch(`${edge.url}/v1/x`, { headers: { ...bearer(acct.secret), 'x-request-id': 'rq-1' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { violated_policies: { rule: string }[] };
    expect(body).toMatchObject({ title: 'Too Many Requests', status: 429, instance: 'urn:request:rq-1' });
    expect(body.violated_policies.map((p) => p.rule)).toEqual(['a', 'b']);
  });

  it('answers 502 in the NestJS shape when the upstream cannot be reached', async () => {
    const acct = await world.account('keebai-standard');
    await upstream.close();
    const res = await fetch(`${edge.url}/v1/x`, { headers: bearer(acct.secret) });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ statusCode: 502, error: 'Bad Gateway' });
  });

  it('serves /health and /metrics on the admin port', async () => {
    const health = await fetch(`${edge.adminUrl}/health`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
    expect(metrics).toContain('usageguard_edge_limiter_decisions_total');
  });
});
