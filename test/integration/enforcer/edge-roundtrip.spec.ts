import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type INestApplicationContext } from '@nestjs/common';
import { PrismaRepository } from '@usageguard/database';
import { QueueRepository } from '@usageguard/queue';
import { waitFor } from '@usageguard/testing';
import {
  bearer,
  createEdgeWorld,
  type EdgeProcess,
  type EdgeWorld,
  startEdge,
  startUpstream,
  type Upstream,
} from '../edge/edge-harness';
import { createFlag, startEnforcer } from './harness';
import { type SmtpSink, startSmtpSink } from './smtp-sink';

/**
 * The whole loop with the edge as its own process: a flag → the enforcer's restriction → the edge answers with the
 * restriction's status, Retry-After and reason code → expiry → the edge lets requests through again → the applied
 * and lifted emails, each received once.
 */
describe('flag to edge and back (enforcer in-process, edge as its own process)', () => {
  let world: EdgeWorld;
  let upstream: Upstream;
  let edge: EdgeProcess;
  let smtp: SmtpSink;
  let enforcer: INestApplicationContext;

  beforeAll(async () => {
    world = await createEdgeWorld();
    upstream = await startUpstream();
    smtp = await startSmtpSink();
    edge = await startEdge({ ...world.env.env, EDGE_UPSTREAM_URL: upstream.url, EDGE_AUTH_CACHE_MS: '500' });
    Object.assign(process.env, world.env.env, { SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
    enforcer = await startEnforcer();
  });

  afterAll(async () => {
    await enforcer?.close();
    await edge?.stop();
    await upstream?.close();
    await smtp?.close();
    await world?.cleanup();
  });

  it('restricts at the edge with the plan status (Kobble: 503), then lets requests through after expiry', async () => {
    const prisma = enforcer.get(PrismaRepository);
    const queue = enforcer.get(QueueRepository);
    const acct = await world.account('kobble-reasonable-use');
    await prisma.notificationContact.create({ data: { accountId: acct.accountId, email: 'ops@kobble-customer.test' } });
    await prisma.plan.update({
      where: { id: world.plans.get('kobble-reasonable-use')! },
      data: {
        enforcementConfig: {
          ladder: [{ mode: 'block', durationSeconds: 4 }],
          startRung: { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
          reasonCode: 'sustained_excess',
        },
      },
    });
    const call = () => fetch(`${edge.url}/v1/things`, { headers: bearer(acct.secret) });
    expect((await call()).status).toBe(200);

    const flag = await createFlag(prisma, acct.accountId, 'HIGH');
    await queue.enqueue(
      'enforcer',
      'evaluate-flag',
      { flagId: flag.id, flagVersion: 1 },
      { jobId: `flag-${flag.id}-v1` },
    );

    const restricted = await waitFor(
      async () => {
        const res = await call();
        return res.status === 503 ? res : undefined;
      },
      { what: 'the edge to answer 503', timeoutMs: 15_000 },
    );
    const retryAfter = Number(restricted.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(4);
    expect(await restricted.json()).toMatchObject({ statusCode: 503, code: 'sustained_excess' });

    await waitFor(
      async () => {
        const res = await call();
        return res.status === 200 ? res : undefined;
      },
      { what: 'the edge to let requests through after expiry', timeoutMs: 20_000 },
    );
    const restriction = await prisma.restriction.findFirstOrThrow({ where: { flagId: flag.id } });
    await waitFor(
      async () => (await prisma.restriction.findUniqueOrThrow({ where: { id: restriction.id } })).status === 'EXPIRED',
      { what: 'the restriction to expire in Postgres', timeoutMs: 15_000 },
    );
    const sent = await waitFor(
      async () => {
        const rows = await prisma.notification.findMany({ where: { accountId: acct.accountId } });
        return rows.length === 2 && rows.every((r) => r.status === 'SENT') ? rows : undefined;
      },
      { what: 'both emails sent', timeoutMs: 15_000 },
    );
    expect(sent.map((n) => n.kind).sort()).toEqual(['RESTRICTION_APPLIED', 'RESTRICTION_LIFTED']);
    for (const n of sent) expect(smtp.byMessageId(n.messageId!)).toHaveLength(1);
    expect(smtp.received).toHaveLength(2);
  });
});
