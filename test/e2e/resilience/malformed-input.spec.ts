import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRequestLogEvent } from '@usageguard/contracts';
import { KafkaRepository } from '@usageguard/kafka';
import { DEMO_ACCOUNTS, DEMO_ADMIN, DEMO_INGEST_KEY } from '../../../prisma/demo-data';
import { opsSession, type Platform, startPlatform } from '../platform';

/**
 * Thousands of malformed requests against every HTTP API of the platform (every dashboard route listed in the
 * OpenAPI document, the ingest and burst-notice APIs, and the edge): none may answer 5xx, and none may change any
 * state — Postgres rows, Redis keys, Kafka offsets — compared before and after.
 */
interface Operation {
  method: string;
  path: string;
  bodyProperties: Record<string, { type?: string }>;
}

interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }>>;
  components?: { schemas?: Record<string, { properties?: Record<string, { type?: string }> }> };
}

const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';
const PARAMS = [NO_SUCH_ID, 'not-a-uuid', '..%2F..%2Fetc%2Fpasswd', "1' OR '1'='1", 'x'.repeat(2000), '%00', '-1'];
const RAW_BODIES: { body: string; type: string }[] = [
  { body: '', type: 'application/json' },
  { body: '{', type: 'application/json' },
  { body: 'null', type: 'application/json' },
  { body: '[]', type: 'application/json' },
  { body: '"text"', type: 'application/json' },
  { body: '12', type: 'application/json' },
  { body: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', type: 'application/json' },
  { body: JSON.stringify({ a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } }), type: 'application/json' },
  { body: `{"x":"${'y'.repeat(200_000)}"}`, type: 'application/json' },
  { body: 'decision=approve', type: 'application/x-www-form-urlencoded' },
  { body: '<xml/>', type: 'application/xml' },
  { body: '\u0000\u0001\u0002', type: 'text/plain' },
];
const WRONG_VALUES: unknown[] = [
  null,
  12,
  -1,
  1.5,
  'text',
  '',
  ['a'],
  { a: 1 },
  true,
  'x'.repeat(10_000),
  '2026-13-45',
  '😀',
];

function operationsOf(doc: OpenApi): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, spec] of Object.entries(methods)) {
      const ref = Object.values(spec.requestBody?.content ?? {})[0]?.schema?.$ref;
      const schema = ref ? doc.components?.schemas?.[ref.split('/').pop()!] : undefined;
      operations.push({ method: method.toUpperCase(), path, bodyProperties: schema?.properties ?? {} });
    }
  }
  return operations;
}

function variants(operation: Operation): { path: string; body?: string; type?: string }[] {
  const paths = operation.path.includes('{')
    ? PARAMS.map((p) => operation.path.replace(/\{[^}]+\}/g, encodeURIComponent(p).replace(/%25/g, '%')))
    : [operation.path, `${operation.path}?limit=-1&offset=abc&sort=%27&from=yesterday&status[]=x`];
  const out: { path: string; body?: string; type?: string }[] = [];
  for (const path of paths) {
    if (operation.method === 'GET' || operation.method === 'DELETE') {
      out.push({ path }, { path: `${path}${path.includes('?') ? '&' : '?'}page=-5&pageSize=1000000&q=%00` });
      continue;
    }
    for (const raw of RAW_BODIES) out.push({ path, body: raw.body, type: raw.type });
    // Every known property with every wrong kind of value, the others left out.
    for (const name of Object.keys(operation.bodyProperties)) {
      for (const value of WRONG_VALUES)
        out.push({ path, body: JSON.stringify({ [name]: value }), type: 'application/json' });
    }
    out.push({
      path,
      body: JSON.stringify({
        unexpected: 'field',
        ...Object.fromEntries(Object.keys(operation.bodyProperties).map((k) => [k, null])),
      }),
      type: 'application/json',
    });
  }
  return out;
}

describe('malformed input against every HTTP API', () => {
  let platform: Platform;
  let ops: Record<string, string>;

  beforeAll(async () => {
    platform = await startPlatform();
    ops = await opsSession(platform.controlPlaneUrl, DEMO_ADMIN.email, 'usageguard-demo');
  });

  afterAll(async () => {
    await platform?.close();
  });

  async function snapshot(): Promise<Record<string, string>> {
    const tables = await platform.prisma.$queryRaw<{ name: string }[]>`
      SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
    const state: Record<string, string> = {};
    for (const { name } of tables) {
      // A session's last-seen time may move on every call; its rows are compared by identity, not by content.
      const select =
        name === 'ops_sessions' ? `SELECT id::text AS row FROM ops_sessions` : `SELECT t::text AS row FROM "${name}" t`;
      const rows = await platform.prisma.$queryRawUnsafe<{ row: string }[]>(select);
      state[`pg:${name}`] = createHash('sha256')
        .update(
          rows
            .map((r) => r.row)
            .sort()
            .join('\n'),
        )
        .digest('hex');
    }
    const keys = await platform.redis.keys(`${platform.test.config.redis.prefix}*`);
    // BullMQ's own bookkeeping (repeatable analyzer cycles, metrics) moves with time; every other key must not.
    state.redis = keys
      .filter((k) => !k.includes(':bull:'))
      .sort()
      .join(',');
    const kafka = new KafkaRepository(platform.test.config);
    const admin = kafka.admin();
    await admin.connect();
    for (const topic of [kafka.topic('request-logs'), kafka.topic('request-logs.dlq')]) {
      state[`kafka:${topic}`] = JSON.stringify(
        (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]),
      );
    }
    await kafka.onModuleDestroy();
    return state;
  }

  it('never answers 5xx and never changes state', async () => {
    const doc = (await (await fetch(`${platform.controlPlaneUrl}/docs/openapi.json`)).json()) as OpenApi;
    const dashboard = operationsOf(doc).filter((o) => o.path.startsWith('/api/') && o.path !== '/api/auth/logout');
    expect(dashboard.length).toBeGreaterThan(10);
    const customerToken = DEMO_ACCOUNTS[0].tokens[0].secret;
    const targets: { base: string; operation: Operation; headers: Record<string, string> }[] = [
      ...dashboard.map((operation) => ({ base: platform.controlPlaneUrl, operation, headers: ops })),
      // The same routes without a session and with a session but no CSRF token.
      ...dashboard.map((operation) => ({ base: platform.controlPlaneUrl, operation, headers: {} })),
      ...dashboard.map((operation) => ({ base: platform.controlPlaneUrl, operation, headers: { cookie: ops.cookie } })),
      {
        base: platform.controlPlaneUrl,
        operation: { method: 'POST', path: '/v1/ingest/logs', bodyProperties: {} },
        headers: { authorization: `Bearer ${DEMO_INGEST_KEY}` },
      },
      {
        base: platform.controlPlaneUrl,
        operation: {
          method: 'POST',
          path: '/v1/burst-notices',
          bodyProperties: {
            startsAt: {},
            endsAt: {},
            durationMinutes: {},
            timezone: {},
            expectedPerMinute: {},
            expectedPerHour: {},
            endpoints: {},
            context: {},
          },
        },
        headers: { authorization: `Bearer ${customerToken}` },
      },
      {
        base: platform.controlPlaneUrl,
        operation: { method: 'DELETE', path: '/v1/burst-notices/{id}', bodyProperties: {} },
        headers: { authorization: `Bearer ${customerToken}` },
      },
    ];
    // Ingest events that are almost right: every field wrong in turn.
    const event = {
      v: 1,
      eventId: 'e1',
      ts: new Date().toISOString(),
      accountId: 'a',
      tokenId: null,
      clientIp: '203.0.113.1',
      method: 'GET',
      route: '/v1/x',
      status: 200,
      latencyMs: 1,
      bytesIn: 0,
      bytesOut: 0,
      operation: 'read',
      decision: 'allowed',
      requestId: 'r1',
    };
    // Only mutations the contract really refuses (a route of 'text' is fine, a status of 'text' is not); one bad
    // event must make the whole call fail, the valid one beside it included.
    const ingestBodies = Object.keys(event).flatMap((field) =>
      WRONG_VALUES.map((value) => ({ ...event, eventId: `e-${field}`, [field]: value }))
        .filter((mutated) => !parseRequestLogEvent(mutated).ok)
        .map((mutated) => JSON.stringify([event, mutated])),
    );
    expect(ingestBodies.length).toBeGreaterThan(80);

    const before = await snapshot();
    const failures: string[] = [];
    let sent = 0;
    const send = async (
      base: string,
      method: string,
      path: string,
      headers: Record<string, string>,
      body?: string,
      type?: string,
    ) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...headers, ...(type ? { 'content-type': type } : {}) },
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
      }).catch((error: Error) => ({ status: 599, text: () => Promise.resolve(error.message) }));
      sent++;
      if (response.status >= 500)
        failures.push(`${method} ${path.slice(0, 120)} → ${response.status}: ${(await response.text()).slice(0, 200)}`);
      else if ('arrayBuffer' in response) await response.arrayBuffer();
    };
    for (const target of targets) {
      const all = variants(target.operation);
      for (let i = 0; i < all.length; i += 16) {
        await Promise.all(
          all
            .slice(i, i + 16)
            .map((v) => send(target.base, target.operation.method, v.path, target.headers, v.body, v.type)),
        );
      }
    }
    for (let i = 0; i < ingestBodies.length; i += 16) {
      await Promise.all(
        ingestBodies
          .slice(i, i + 16)
          .map((body) =>
            send(
              platform.controlPlaneUrl,
              'POST',
              '/v1/ingest/logs',
              { authorization: `Bearer ${DEMO_INGEST_KEY}` },
              body,
              'application/json',
            ),
          ),
      );
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(2000);
    expect(await snapshot()).toEqual(before);

    // The edge: unknown, malformed and hostile credentials and paths. It logs what it refuses (a request-log
    // event is the point of the edge), so here only Postgres and Redis must stay as they were.
    const edgeAuth = [
      '',
      'Bearer',
      'Bearer ',
      'Basic Zm9vOmJhcg==',
      `Bearer ${'x'.repeat(8000)}`,
      'Bearer ug_live_nope',
      'Bearer \u00ff\u00fe',
    ];
    const edgePaths = [
      '/',
      '/%',
      '/..%2F..%2Fadmin',
      `/v1/${'a/'.repeat(500)}`,
      '/v1/things?x=%zz',
      '/_usageguard/rate-limit?x=1',
    ];
    for (const auth of edgeAuth) {
      await Promise.all(
        edgePaths.map((path) =>
          send(platform.edgeUrls[0], 'GET', path, auth ? { authorization: auth } : {}).then(() =>
            send(platform.edgeUrls[0], 'POST', path, auth ? { authorization: auth } : {}, '{', 'application/json'),
          ),
        ),
      );
    }

    expect(failures).toEqual([]);
    const after = await snapshot();
    for (const key of Object.keys(before).filter((k) => !k.startsWith('kafka:')))
      expect([key, after[key]]).toEqual([key, before[key]]);
  });
});
