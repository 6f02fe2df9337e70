import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@usageguard/domain';
import { sleep, waitFor } from '@usageguard/testing';
import { historyEvents, postEvents } from '../../../apps/cli/src/simulator/history';
import { PERSONAS } from '../../../apps/cli/src/simulator/personas';
import { DEMO_INGEST_KEY } from '../../../prisma/demo-data';
import { type Platform, startPlatform } from '../platform';

/**
 * The whole loop on the real services, every component in its own process as in production:
 * traffic through the edge → Kafka → ClickHouse → analyzer flag → enforcer restriction → the edge answers 503
 * (Kobble's status) → applied email → expiry → lifted → lifted email, each email received exactly once.
 */
const globex = PERSONAS.find((p) => p.externalId === 'globex')!;
const RESTRICTION_SECONDS = 20;

describe('the loop, end to end', () => {
  let platform: Platform;
  let accountId: string;

  beforeAll(async () => {
    platform = await startPlatform({
      prepare: async (prisma) => {
        // Test-speed settings for the Kobble plan: one minute of clear excess in a 5-minute window flags, and any
        // flag blocks for 20 s with Kobble's 503.
        await prisma.plan.update({
          where: { key: 'kobble-reasonable-use' },
          data: {
            detectionConfig: {
              sustainedExcess: {
                windowMinutes: 5,
                openShare: 0.2,
                closeShare: 0.1,
                floorPerMinute: 20,
                minExcessRequests: 100,
              },
            },
            enforcementConfig: {
              ladder: [{ mode: 'block', durationSeconds: RESTRICTION_SECONDS, statusCode: 503 }],
              startRung: { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
              autoApplyFrom: 'LOW',
              reasonCode: 'reasonable_use',
            },
          },
        });
      },
    });
    const token = await platform.prisma.apiToken.findUniqueOrThrow({ where: { secretHash: hashSecret(globex.token) } });
    accountId = token.accountId;

    // Two days of quiet, normal history through the ingest API: the analyzer learns Globex's baseline from it.
    const history = [
      ...historyEvents(
        { ...globex, peakPerMinute: 4, accountId, tokenId: token.id },
        { days: 2, until: new Date(Date.now() - 10 * 60_000), seed: 7, batch: 5_000 },
      ),
    ];
    for (let i = 0; i < history.length; i += 1_000) {
      await postEvents(platform.controlPlaneUrl, DEMO_INGEST_KEY, history.slice(i, i + 1_000));
    }
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('flags sustained abuse, restricts it at the edge, emails once, expires, lifts, emails once', async () => {
    const edge = platform.edgeUrls[0];
    const statuses: number[] = [];
    let restricted = false;
    const hit = async () => {
      const response = await fetch(`${edge}/v1/things/${Math.floor(Math.random() * 1000)}`, {
        headers: { authorization: `Bearer ${globex.token}`, 'x-forwarded-for': '198.51.100.20' },
      });
      statuses.push(response.status);
      if (response.status === 503) restricted = true;
      await response.arrayBuffer();
    };

    // ~480 requests a minute, far above two days of ~4 a minute, until the edge starts answering 503.
    const deadline = Date.now() + 5 * 60_000;
    while (!restricted && Date.now() < deadline) {
      await Promise.all(Array.from({ length: 8 }, hit));
      await sleep(1000);
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(100);
    expect(restricted).toBe(true);

    const flag = await platform.prisma.flag.findFirstOrThrow({ where: { accountId, kind: 'SUSTAINED_EXCESS' } });
    expect(flag.evidence).toBeTruthy();
    const restriction = await platform.prisma.restriction.findFirstOrThrow({ where: { accountId } });
    expect(restriction).toMatchObject({ mode: 'BLOCK', statusCode: 503, status: 'ACTIVE', flagId: flag.id });

    // The customer is told once.
    const applied = await waitFor(
      () =>
        platform.prisma.notification
          .findFirst({ where: { accountId, kind: 'RESTRICTION_APPLIED', status: 'SENT' } })
          .then((n) => n ?? undefined),
      { timeoutMs: 30_000, what: 'the applied email' },
    );
    const blocked = await fetch(`${edge}/v1/things/1`, { headers: { authorization: `Bearer ${globex.token}` } });
    expect(blocked.status).toBe(503);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    await blocked.arrayBuffer();

    // Expiry lifts it: the edge lets the account through again and the customer is told once.
    const lifted = await waitFor(
      () =>
        platform.prisma.notification
          .findFirst({ where: { accountId, kind: 'RESTRICTION_LIFTED', status: 'SENT' } })
          .then((n) => n ?? undefined),
      { timeoutMs: (RESTRICTION_SECONDS + 60) * 1000, what: 'the lifted email' },
    );
    await waitFor(
      async () => {
        const response = await fetch(`${edge}/v1/things/2`, { headers: { authorization: `Bearer ${globex.token}` } });
        await response.arrayBuffer();
        return response.status === 200;
      },
      { timeoutMs: 10_000, what: 'the edge to let Globex through again' },
    );
    expect(await platform.prisma.restriction.findUniqueOrThrow({ where: { id: restriction.id } })).toMatchObject({
      status: expect.stringMatching(/^(EXPIRED|LIFTED)$/),
    });

    // Nothing more arrives later: exactly one email per notification, to Globex's contact.
    await sleep(5_000);
    const received = (key: string) => platform.smtp.received.filter((m) => m.idempotencyKey === key);
    expect(received(applied.idempotencyKey)).toHaveLength(1);
    expect(received(lifted.idempotencyKey)).toHaveLength(1);
    expect(received(applied.idempotencyKey)[0].to).toEqual(['admin@globex.example']);
    expect(await platform.prisma.notification.count({ where: { accountId } })).toBe(2);
    expect(platform.controlPlane.exits + platform.edges[0].exits).toBe(0);
  });
});
