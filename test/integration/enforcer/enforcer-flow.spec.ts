import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpsActor, restrictionKeys, restrictionRecordSchema } from '@usageguard/contracts';
import { waitFor } from '@usageguard/testing';
import { applyManualThrottle, createAccount, createFlag, createHarness, type EnforcerHarness } from './harness';

/** waitFor treats null as an answer; a row not there yet is undefined. */
const found =
  <T>(read: () => Promise<T | null>) =>
  async (): Promise<T | undefined> =>
    (await read()) ?? undefined;

const OPS: OpsActor = { type: 'OPS_USER', id: '5b0e7d52-6a42-4c1e-9a57-1f0c3a9e2b11', requestId: 'req-1' };

const FAST_LADDER = {
  ladder: [
    { mode: 'notify', durationSeconds: 3 },
    { mode: 'throttle', throttleFactor: 0.25, durationSeconds: 3 },
    { mode: 'block', durationSeconds: 3 },
  ],
  startRung: { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 2 },
  autoApplyFrom: 'HIGH',
  reasonCode: 'sustained_excess',
  supportEmail: 'support@provider.test',
};

describe('enforcer (real Postgres, Redis, BullMQ, SMTP)', () => {
  let h: EnforcerHarness;

  beforeAll(async () => {
    h = await createHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  const evaluate = async (flag: { id: string; version: number }) =>
    h.queue.enqueue(
      'enforcer',
      'evaluate-flag',
      { flagId: flag.id, flagVersion: flag.version },
      {
        jobId: `flag-${flag.id}-v${flag.version}`,
      },
    );

  const emailsTo = (accountPrefix: string) =>
    h.smtp.received.filter((m) => m.to.some((t) => t.startsWith(accountPrefix)));

  it('flag → block at the edge → expiry → lifted, with the applied and lifted emails each sent exactly once', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: FAST_LADDER, limitStatusCode: 503 });
    const contacts = (await h.prisma.notificationContact.findMany({ where: { accountId } })).map((c) => c.email);
    const flag = await createFlag(h.prisma, accountId, 'HIGH');
    await evaluate(flag);
    // A duplicate trigger for the same flag version is a no-op (deterministic job id).
    await evaluate(flag);

    const record = await waitFor(
      found(() => h.store.get(accountId, 'account', null)),
      { what: 'restriction in Redis' },
    );
    expect(restrictionRecordSchema.parse(record)).toMatchObject({
      accountId,
      scope: 'account',
      scopeValue: null,
      mode: 'block',
      throttleFactor: null,
      statusCode: 503,
      reasonCode: 'sustained_excess',
    });
    const key = restrictionKeys.record(h.redis.prefix, accountId, 'account', null);
    const ttl = await h.redis.client.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_000);
    expect(await h.redis.client.smembers(restrictionKeys.index(h.redis.prefix, accountId))).toEqual([key]);
    await waitFor(
      () => h.announcements.some((a) => a.key === key && a.action === 'upsert' && a.version === record.version),
      {
        what: 'upsert announcement',
      },
    );

    const expired = await waitFor(
      async () => {
        const r = await h.prisma.restriction.findUnique({ where: { id: record.id } });
        return r?.status === 'EXPIRED' ? r : undefined;
      },
      { what: 'restriction expired', timeoutMs: 15_000 },
    );
    expect(expired.version).toBeGreaterThan(record.version);
    expect(await h.redis.client.exists(key)).toBe(0);
    await waitFor(
      () => h.announcements.some((a) => a.key === key && a.action === 'remove' && a.version === expired.version),
      {
        what: 'remove announcement',
      },
    );

    const notifications = await waitFor(
      async () => {
        const rows = await h.prisma.notification.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
        return rows.length === 2 && rows.every((n) => n.status === 'SENT') ? rows : undefined;
      },
      { what: 'two notifications sent', timeoutMs: 15_000 },
    );
    expect(notifications.map((n) => n.kind)).toEqual(['RESTRICTION_APPLIED', 'RESTRICTION_LIFTED']);
    const received = emailsTo(contacts[0].split('@')[0]);
    expect(received).toHaveLength(2);
    for (const n of notifications) {
      const copies = h.smtp.byMessageId(n.messageId!);
      expect(copies).toHaveLength(1);
      expect(copies[0].to.sort()).toEqual([...contacts].sort());
      expect(copies[0].idempotencyKey).toBe(n.idempotencyKey);
    }
    const applied = h.smtp.byMessageId(notifications[0].messageId!)[0].raw;
    expect(applied).toMatch(/Subject: API access restricted/);
    expect(applied).toContain('Sustained 9.4');
    expect(applied).toContain('GET /v1/contacts (48211 requests)');
    expect(applied).toContain('203.0.113.7');
    expect(applied).not.toContain('c0ffee00'); // token ids are internal
    expect(applied).toContain('48 hours');
    expect(applied).toContain('support@provider.test');
    expect(applied).toContain('text/html');
    expect(applied).toContain('text/plain');
    expect(h.smtp.byMessageId(notifications[1].messageId!)[0].raw).toMatch(/Subject: API access restored/);

    const audit = await h.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['restriction.applied', 'restriction.expired']);
    expect(audit.every((a) => a.actorType === 'SYSTEM' && a.targetId === record.id)).toBe(true);
    expect(audit[1].before).toMatchObject({ status: 'ACTIVE' });
    expect(audit[1].after).toMatchObject({ status: 'EXPIRED' });
  });

  it('below the auto severity it waits for ops; approval applies it through the same path', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: FAST_LADDER });
    const flag = await createFlag(h.prisma, accountId, 'MEDIUM');
    await evaluate(flag);
    const pending = await waitFor(
      found(() => h.prisma.restriction.findFirst({ where: { accountId } })),
      { what: 'proposal' },
    );
    expect(pending).toMatchObject({ status: 'PENDING_APPROVAL', mode: 'THROTTLE', level: 1 });
    expect(await h.store.get(accountId, 'account', null)).toBeNull();

    const result = await h.queue.enqueueAndWait(
      'enforcer',
      'review-flag',
      { flagId: flag.id, decision: 'approve', actor: OPS, reason: 'confirmed with the account manager' },
      { jobId: `review-${flag.id}-1` },
    );
    expect(result).toMatchObject({ outcome: 'approved', restrictionId: pending.id, status: 'ACTIVE', edge: 'written' });
    const record = await h.store.get(accountId, 'account', null);
    expect(record).toMatchObject({ mode: 'throttle', throttleFactor: 0.25, statusCode: 429 });
    const audit = await h.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => [a.action, a.actorType])).toEqual([
      ['restriction.proposed', 'SYSTEM'],
      ['flag.approved', 'OPS_USER'],
      ['restriction.approved', 'OPS_USER'],
    ]);
    expect(audit[2].reason).toBe('confirmed with the account manager');
    expect((await h.prisma.flag.findUniqueOrThrow({ where: { id: flag.id } })).reviewedBy).toBe(OPS.id);
  });

  it('never restricts an allowlisted account automatically, even for a critical flag', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: FAST_LADDER, allowlisted: true });
    const flag = await createFlag(h.prisma, accountId, 'CRITICAL');
    await evaluate(flag);
    const pending = await waitFor(
      found(() => h.prisma.restriction.findFirst({ where: { accountId } })),
      { what: 'proposal' },
    );
    expect(pending.status).toBe('PENDING_APPROVAL');
    expect(pending.reason).toContain('allowlisted');
    expect(await h.store.get(accountId, 'account', null)).toBeNull();
    expect(await h.prisma.notification.count({ where: { accountId } })).toBe(0);
  });

  it('escalates a repeat offender one rung per earlier offence; a dismissed flag is forgiven', async () => {
    const config = {
      ...FAST_LADDER,
      ladder: FAST_LADDER.ladder.map((r) => ({ ...r, durationSeconds: 600 })),
      autoApplyFrom: 'LOW',
    };
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: config });
    const first = await createFlag(h.prisma, accountId, 'LOW', 'SUSTAINED_EXCESS');
    await evaluate(first);
    const warning = await waitFor(
      found(() => h.prisma.restriction.findFirst({ where: { flagId: first.id } })),
      {
        what: 'first',
      },
    );
    expect(warning).toMatchObject({ mode: 'NOTIFY', level: 0, status: 'ACTIVE' });
    expect(await h.store.get(accountId, 'account', null)).toBeNull(); // a warning never reaches the edge

    const second = await createFlag(h.prisma, accountId, 'LOW', 'ENDPOINT_HAMMERING');
    await evaluate(second);
    const throttle = await waitFor(
      found(() => h.prisma.restriction.findFirst({ where: { flagId: second.id } })),
      {
        what: 'second',
      },
    );
    expect(throttle).toMatchObject({ mode: 'THROTTLE', level: 1 });
    // The restriction ends the warning on the same scope; the edge holds the throttle.
    expect((await h.prisma.restriction.findUniqueOrThrow({ where: { id: warning.id } })).status).toBe('LIFTED');
    expect(await h.store.get(accountId, 'account', null)).toMatchObject({ mode: 'throttle', id: throttle.id });

    await h.queue.enqueueAndWait(
      'enforcer',
      'review-flag',
      { flagId: second.id, decision: 'dismiss', actor: OPS, reason: 'planned migration we knew about' },
      { jobId: `review-${second.id}-1` },
    );
    expect(await h.store.get(accountId, 'account', null)).toBeNull();
    const third = await createFlag(h.prisma, accountId, 'LOW', 'ERROR_STORM');
    await evaluate(third);
    const next = await waitFor(
      found(() => h.prisma.restriction.findFirst({ where: { flagId: third.id } })),
      {
        what: 'third',
      },
    );
    expect(next.level).toBe(1); // the dismissed offence does not count; the first still does

    const kinds = await h.prisma.notification.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
    expect(kinds.map((n) => n.kind)).toEqual([
      'WARNING',
      'RESTRICTION_APPLIED',
      'RESTRICTION_LIFTED',
      'RESTRICTION_APPLIED',
    ]);
  });

  it('applies, extends and lifts manually through the enforcer queue, returning a summary each time', async () => {
    const { accountId } = await createAccount(h.prisma);
    const applied = (await h.queue.enqueueAndWait(
      'enforcer',
      'apply-restriction',
      {
        accountId,
        mode: 'block',
        scope: 'token',
        scopeValue: 'tok_123',
        throttleFactor: null,
        statusCode: 429,
        reasonCode: 'abuse',
        durationSeconds: 600,
        flagId: null,
        actor: OPS,
        reason: 'credential stuffing from this token',
      },
      { jobId: `apply-${accountId}` },
    )) as { restrictionId: string; version: number; outcome: string; edge: string };
    expect(applied).toMatchObject({ outcome: 'applied', status: 'ACTIVE', mode: 'BLOCK', edge: 'written' });
    const record = await h.store.get(accountId, 'token', 'tok_123');
    expect(record).toMatchObject({
      scope: 'token',
      scopeValue: 'tok_123',
      reasonCode: 'abuse',
      version: applied.version,
    });

    const until = new Date(Date.now() + 3_600_000);
    const extended = (await h.queue.enqueueAndWait(
      'enforcer',
      'extend-restriction',
      { restrictionId: applied.restrictionId, expiresAt: until.toISOString(), actor: OPS, reason: 'still ongoing' },
      { jobId: `extend-${applied.restrictionId}` },
    )) as { version: number; expiresAt: string };
    expect(extended).toMatchObject({ outcome: 'extended', expiresAt: until.toISOString() });
    expect(extended.version).toBeGreaterThan(applied.version);
    const key = restrictionKeys.record(h.redis.prefix, accountId, 'token', 'tok_123');
    expect(await h.redis.client.pttl(key)).toBeGreaterThan(3_000_000);
    expect((await h.store.get(accountId, 'token', 'tok_123'))?.expiresAt).toBe(until.getTime());

    const lifted = (await h.queue.enqueueAndWait(
      'enforcer',
      'lift-restriction',
      { restrictionId: applied.restrictionId, actor: OPS, reason: 'customer fixed the leak' },
      { jobId: `lift-${applied.restrictionId}` },
    )) as { version: number };
    expect(lifted).toMatchObject({ outcome: 'lifted', status: 'LIFTED', edge: 'removed' });
    expect(await h.redis.client.exists(key)).toBe(0);
    const versions = h.announcements.filter((a) => a.key === key).map((a) => a.version);
    expect(versions).toEqual([applied.version, extended.version, lifted.version]);

    // A late write of an older version cannot bring the lifted restriction back.
    expect(await h.store.put({ ...record!, expiresAt: Date.now() + 60_000 })).toBe('stale');
    expect(await h.redis.client.exists(key)).toBe(0);

    await expect(
      h.queue.enqueueAndWait(
        'enforcer',
        'extend-restriction',
        { restrictionId: applied.restrictionId, expiresAt: until.toISOString(), actor: OPS, reason: 'again' },
        { jobId: `extend-${applied.restrictionId}-2`, attempts: 1 },
      ),
    ).rejects.toThrow(/restriction_not_active/);

    const sent = await waitFor(
      async () => {
        const rows = await h.prisma.notification.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
        return rows.length === 3 && rows.every((n) => n.status === 'SENT') ? rows : undefined;
      },
      { what: 'three emails' },
    );
    expect(sent.map((n) => (n.payload as { change: string }).change)).toEqual(['applied', 'extended', 'lifted']);
    const audit = await h.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => [a.action, a.actorType, a.actorId])).toEqual([
      ['restriction.applied', 'OPS_USER', OPS.id],
      ['restriction.extended', 'OPS_USER', OPS.id],
      ['restriction.lifted', 'OPS_USER', OPS.id],
    ]);
  });

  it('rebuilds Redis from Postgres on reconcile, and removes what Postgres no longer backs', async () => {
    const { accountId } = await createAccount(h.prisma);
    const applied = (await applyManualThrottle(h.queue, accountId, OPS)) as { restrictionId: string };
    const before = await h.store.get(accountId, 'account', null);
    expect(before?.id).toBe(applied.restrictionId);

    // Lose this test's restriction keys (only under its own prefix), and plant a record nothing backs.
    const keys = await h.redis.client.keys(`${h.redis.prefix}restriction*`);
    expect(keys.length).toBeGreaterThan(0);
    await h.redis.client.del(...keys);
    const { accountId: other } = await createAccount(h.prisma);
    await h.store.put({ ...before!, id: '00000000-0000-4000-8000-000000000000', accountId: other, version: 1 });
    expect(await h.store.get(accountId, 'account', null)).toBeNull();

    const summary = await h.queue.enqueueAndWait(
      'enforcer',
      'reconcile-restrictions',
      {},
      { jobId: `reconcile-${accountId}` },
    );
    expect(summary).toMatchObject({ removed: 1 });
    expect(await h.store.get(accountId, 'account', null)).toEqual(before);
    expect(
      await h.redis.client.pttl(restrictionKeys.record(h.redis.prefix, accountId, 'account', null)),
    ).toBeGreaterThan(0);
    expect(await h.store.get(other, 'account', null)).toBeNull();
    expect(await h.redis.client.smembers(restrictionKeys.index(h.redis.prefix, other))).toEqual([]);

    // An overdue restriction whose expiry job was lost: reconcile expires it through the same path.
    await h.prisma.restriction.update({
      where: { id: applied.restrictionId },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    const again = await h.queue.enqueueAndWait(
      'enforcer',
      'reconcile-restrictions',
      {},
      { jobId: `reconcile-${accountId}-2` },
    );
    expect(again).toMatchObject({ expired: 1 });
    expect((await h.prisma.restriction.findUniqueOrThrow({ where: { id: applied.restrictionId } })).status).toBe(
      'EXPIRED',
    );
    expect(await h.store.get(accountId, 'account', null)).toBeNull();
    await waitFor(
      async () =>
        (await h.prisma.notification.findFirst({ where: { accountId, kind: 'RESTRICTION_LIFTED', status: 'SENT' } })) ??
        undefined,
      { what: 'the lifted email' },
    );
  });
});
