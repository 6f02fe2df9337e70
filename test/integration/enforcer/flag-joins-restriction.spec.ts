import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpsActor, restrictionKeys } from '@usageguard/contracts';
import { waitFor } from '@usageguard/testing';
import { applyManualThrottle, createAccount, createFlag, createHarness, type EnforcerHarness } from './harness';

const OPS: OpsActor = { type: 'OPS_USER', id: '5b0e7d52-6a42-4c1e-9a57-1f0c3a9e2b11', requestId: 'req-2' };

/** HIGH starts on the throttle, CRITICAL on the block; a repeat offence would go one rung up. */
const LADDER = {
  ladder: [
    { mode: 'notify', durationSeconds: 600 },
    { mode: 'throttle', throttleFactor: 0.5, durationSeconds: 600 },
    { mode: 'block', durationSeconds: 600 },
    { mode: 'block', durationSeconds: 86_400 },
  ],
  startRung: { LOW: 0, MEDIUM: 1, HIGH: 1, CRITICAL: 2 },
  autoApplyFrom: 'HIGH',
  reasonCode: 'reasonable_use',
  supportEmail: 'support@provider.test',
};

interface Summary {
  outcome: string;
  restrictionId: string | null;
  mode: string | null;
  status: string | null;
  version: number | null;
  edge: string;
}

describe('a second flag for a restricted account (real Postgres, Redis, BullMQ, SMTP)', () => {
  let h: EnforcerHarness;

  beforeAll(async () => {
    h = await createHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Evaluates a flag and returns the job's summary; `attempt` gives a second trigger of the same flag its own job. */
  const evaluate = async (flag: { id: string; version: number }, attempt = 1) =>
    (await h.queue.enqueueAndWait(
      'enforcer',
      'evaluate-flag',
      { flagId: flag.id, flagVersion: flag.version },
      { jobId: `flag-${flag.id}-v${flag.version}-${attempt}` },
    )) as Summary;

  /** Every outbox row of the account once all are sent, and what the SMTP server received for each. */
  const sentEmails = async (accountId: string, count: number) => {
    const rows = await waitFor(
      async () => {
        const found = await h.prisma.notification.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
        return found.length === count && found.every((n) => n.status === 'SENT') ? found : undefined;
      },
      { what: `${count} emails sent` },
    );
    return rows.map((n) => {
      const copies = h.smtp.byMessageId(n.messageId!);
      expect(copies).toHaveLength(1);
      return { change: (n.payload as { change: string }).change, subject: copies[0].subject, raw: copies[0].raw };
    });
  };

  /** Everything the enforcer writes for an account, to show a repeated evaluation changed nothing. */
  const state = async (accountId: string) => ({
    restrictions: await h.prisma.restriction.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } }),
    flags: await h.prisma.flag.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } }),
    notifications: await h.prisma.notification.count({ where: { accountId } }),
    audit: await h.prisma.auditEvent.count({ where: { accountId } }),
    record: await h.store.get(accountId, 'account', null),
  });

  it('joins the restriction in force: one restriction, one email, the flag linked and audited', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER });
    const storm = await createFlag(h.prisma, accountId, 'HIGH', 'ERROR_STORM');
    const first = await evaluate(storm);
    expect(first).toMatchObject({ outcome: 'applied', mode: 'THROTTLE', status: 'ACTIVE', edge: 'written' });

    const spread = await createFlag(h.prisma, accountId, 'HIGH', 'TOKEN_SPREAD');
    const second = await evaluate(spread);
    expect(second).toMatchObject({
      outcome: 'joined',
      restrictionId: first.restrictionId,
      mode: 'THROTTLE',
      version: first.version,
      edge: 'unchanged',
    });
    // A weaker flag, below the automatic threshold, joins as well instead of waiting as a proposal.
    const hammering = await createFlag(h.prisma, accountId, 'MEDIUM', 'ENDPOINT_HAMMERING');
    expect(await evaluate(hammering)).toMatchObject({ outcome: 'joined', restrictionId: first.restrictionId });

    const restrictions = await h.prisma.restriction.findMany({ where: { accountId } });
    expect(restrictions).toHaveLength(1);
    expect(restrictions[0]).toMatchObject({ id: first.restrictionId, status: 'ACTIVE', flagId: storm.id });
    const flags = await h.prisma.flag.findMany({ where: { accountId } });
    expect(Object.fromEntries(flags.map((f) => [f.kind, f.restrictionId]))).toEqual({
      ERROR_STORM: null, // the restriction's own flag (restrictions.flag_id)
      TOKEN_SPREAD: first.restrictionId,
      ENDPOINT_HAMMERING: first.restrictionId,
    });
    expect(await h.store.get(accountId, 'account', null)).toMatchObject({
      id: first.restrictionId,
      mode: 'throttle',
      version: first.version,
    });

    const emails = await sentEmails(accountId, 1);
    expect(emails.map((e) => e.change)).toEqual(['applied']);
    expect(emails[0].subject).toMatch(/^API access restricted/);
    const contacts = await h.prisma.notificationContact.findMany({ where: { accountId } });
    for (const { email } of contacts) expect(h.smtp.received.filter((m) => m.to.includes(email))).toHaveLength(1);

    const audit = await h.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => [a.action, a.targetId])).toEqual([
      ['restriction.applied', first.restrictionId],
      ['flag.attached', spread.id],
      ['flag.attached', hammering.id],
    ]);
    expect(audit[1].after).toMatchObject({ restrictionId: first.restrictionId, mode: 'THROTTLE' });

    // The same flag processed again (a retry, a second trigger): nothing changes.
    const before = await state(accountId);
    expect(await evaluate(spread, 2)).toMatchObject({ outcome: 'unchanged', restrictionId: first.restrictionId });
    expect(await evaluate(storm, 2)).toMatchObject({ outcome: 'unchanged', restrictionId: first.restrictionId });
    expect(await state(accountId)).toEqual(before);
  });

  it('escalates in place for a stronger flag: one "changed" email, then one lifted email when it expires', async () => {
    const fast = {
      ...LADDER,
      ladder: [
        { mode: 'notify', durationSeconds: 60 },
        { mode: 'throttle', throttleFactor: 0.5, durationSeconds: 4 },
        { mode: 'block', durationSeconds: 5 },
      ],
    };
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: fast, limitStatusCode: 503 });
    const storm = await createFlag(h.prisma, accountId, 'HIGH', 'ERROR_STORM');
    const first = await evaluate(storm);
    expect(first).toMatchObject({ outcome: 'applied', mode: 'THROTTLE' });

    const spread = await createFlag(h.prisma, accountId, 'CRITICAL', 'TOKEN_SPREAD');
    const second = await evaluate(spread);
    expect(second).toMatchObject({
      outcome: 'escalated',
      restrictionId: first.restrictionId,
      mode: 'BLOCK',
      status: 'ACTIVE',
      edge: 'written',
    });
    expect(second.version).toBeGreaterThan(first.version!);

    const restriction = await h.prisma.restriction.findUniqueOrThrow({ where: { id: first.restrictionId! } });
    expect(restriction).toMatchObject({ mode: 'BLOCK', level: 2, statusCode: 503, flagId: storm.id });
    expect(await h.prisma.restriction.count({ where: { accountId } })).toBe(1);
    expect((await h.prisma.flag.findUniqueOrThrow({ where: { id: spread.id } })).restrictionId).toBe(restriction.id);
    expect(await h.store.get(accountId, 'account', null)).toMatchObject({
      id: restriction.id,
      mode: 'block',
      statusCode: 503,
      version: second.version,
      expiresAt: restriction.expiresAt.getTime(),
    });
    const key = restrictionKeys.record(h.redis.prefix, accountId, 'account', null);
    await waitFor(() => h.announcements.some((a) => a.key === key && a.version === second.version), {
      what: 'escalation announced',
    });

    // Processing the stronger flag again: nothing changes, no second "changed" email.
    const before = await state(accountId);
    expect(await evaluate(spread, 2)).toMatchObject({ outcome: 'unchanged', version: second.version });
    expect(await state(accountId)).toEqual(before);

    // The expiry job of the throttle's version is harmless; the escalated version's expires it.
    const expired = await waitFor(
      async () => {
        const r = await h.prisma.restriction.findUniqueOrThrow({ where: { id: restriction.id } });
        return r.status === 'EXPIRED' ? r : undefined;
      },
      { what: 'escalated restriction expired', timeoutMs: 15_000 },
    );
    expect(expired.expiresAt).toEqual(restriction.expiresAt);
    expect(await h.store.get(accountId, 'account', null)).toBeNull();

    const emails = await sentEmails(accountId, 3);
    expect(emails.map((e) => e.change)).toEqual(['applied', 'changed', 'expired']);
    expect(emails.filter((e) => /^API access restricted/.test(e.subject))).toHaveLength(1);
    expect(emails[1].subject).toMatch(/^API access restriction changed for /);
    expect(emails[1].raw).toContain('not an additional one');
    expect(emails[1].raw).toContain('Rate limits reduced to 50% of your plan');
    expect(emails[1].raw).toContain('Requests are refused with HTTP 503');
    expect(emails[1].raw).toContain(restriction.id);

    const audit = await h.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual([
      'restriction.applied',
      'restriction.escalated',
      'flag.attached',
      'restriction.expired',
    ]);
    expect(audit[1].before).toMatchObject({ mode: 'THROTTLE', version: first.version });
    expect(audit[1].after).toMatchObject({ mode: 'BLOCK', version: second.version });
  });

  it('decides two flags raised at the same moment one after the other: one restriction, one email', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER });
    const storm = await createFlag(h.prisma, accountId, 'HIGH', 'ERROR_STORM');
    const spread = await createFlag(h.prisma, accountId, 'HIGH', 'TOKEN_SPREAD');
    const outcomes = await Promise.all([evaluate(storm), evaluate(spread)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['applied', 'joined']);
    expect(outcomes[0].restrictionId).toBe(outcomes[1].restrictionId);
    const restrictions = await h.prisma.restriction.findMany({ where: { accountId } });
    expect(restrictions).toHaveLength(1);
    expect(restrictions[0]).toMatchObject({ status: 'ACTIVE', mode: 'THROTTLE', level: 1 });
    expect(await sentEmails(accountId, 1)).toMatchObject([{ change: 'applied' }]);
  });

  it('leaves the edge alone while a stronger flag waits for ops, and approving it sends a "changed" email', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER, allowlisted: true });
    const manual = (await applyManualThrottle(h.queue, accountId, OPS)) as Summary;
    const record = await h.store.get(accountId, 'account', null);
    expect(record).toMatchObject({ id: manual.restrictionId, mode: 'throttle' });

    const critical = await createFlag(h.prisma, accountId, 'CRITICAL', 'TOKEN_SPREAD');
    expect(await evaluate(critical)).toMatchObject({ outcome: 'proposed', status: 'PENDING_APPROVAL', edge: 'none' });
    // The proposal's version is above the throttle's; it must not take the throttle off the edge.
    expect(await h.store.get(accountId, 'account', null)).toEqual(record);
    // A flag that is not stronger joins the manual restriction.
    const low = await createFlag(h.prisma, accountId, 'MEDIUM', 'ERROR_STORM');
    expect(await evaluate(low)).toMatchObject({ outcome: 'joined', restrictionId: manual.restrictionId });

    const approved = (await h.queue.enqueueAndWait(
      'enforcer',
      'review-flag',
      { flagId: critical.id, decision: 'approve', actor: OPS, reason: 'confirmed' },
      { jobId: `review-${critical.id}` },
    )) as Summary;
    expect(approved).toMatchObject({ outcome: 'approved', mode: 'BLOCK', status: 'ACTIVE', edge: 'written' });
    expect(await h.store.get(accountId, 'account', null)).toMatchObject({ id: approved.restrictionId, mode: 'block' });
    expect((await h.prisma.restriction.findUniqueOrThrow({ where: { id: manual.restrictionId! } })).status).toBe(
      'LIFTED',
    );
    const emails = await sentEmails(accountId, 2);
    expect(emails.map((e) => e.change)).toEqual(['applied', 'changed']);
    expect(emails[1].subject).toMatch(/^API access restriction changed for /);
  });

  it('lifting a restriction for its dismissed flag leaves the flags that joined it to stand on their own', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER });
    const storm = await createFlag(h.prisma, accountId, 'HIGH', 'ERROR_STORM');
    const first = await evaluate(storm);
    const spread = await createFlag(h.prisma, accountId, 'HIGH', 'TOKEN_SPREAD');
    expect(await evaluate(spread)).toMatchObject({ outcome: 'joined' });

    await h.queue.enqueueAndWait(
      'enforcer',
      'review-flag',
      { flagId: storm.id, decision: 'dismiss', actor: OPS, reason: 'load test we knew about' },
      { jobId: `review-${storm.id}` },
    );
    expect((await h.prisma.restriction.findUniqueOrThrow({ where: { id: first.restrictionId! } })).status).toBe(
      'LIFTED',
    );
    const own = await h.prisma.restriction.findFirstOrThrow({ where: { flagId: spread.id } });
    // The dismissed flag's restriction is forgiven, so the joined flag starts on its own first rung.
    expect(own).toMatchObject({ status: 'ACTIVE', mode: 'THROTTLE', level: 1 });
    expect(await h.store.get(accountId, 'account', null)).toMatchObject({ id: own.id, mode: 'throttle' });
    expect((await sentEmails(accountId, 3)).map((e) => e.change)).toEqual(['applied', 'lifted', 'applied']);
  });

  it("joins another flag's proposal awaiting ops, raises it in place, and approving a joined flag approves it", async () => {
    // Allowlisted: every rung waits for ops.
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER, allowlisted: true });
    const excess = await createFlag(h.prisma, accountId, 'MEDIUM', 'SUSTAINED_EXCESS');
    const proposed = await evaluate(excess);
    expect(proposed).toMatchObject({ outcome: 'proposed', status: 'PENDING_APPROVAL', mode: 'THROTTLE', edge: 'none' });

    const storm = await createFlag(h.prisma, accountId, 'MEDIUM', 'ERROR_STORM');
    expect(await evaluate(storm)).toMatchObject({
      outcome: 'joined',
      restrictionId: proposed.restrictionId,
      status: 'PENDING_APPROVAL',
      version: proposed.version,
    });
    const spread = await createFlag(h.prisma, accountId, 'CRITICAL', 'TOKEN_SPREAD');
    const raised = await evaluate(spread);
    expect(raised).toMatchObject({
      outcome: 'escalated',
      restrictionId: proposed.restrictionId,
      status: 'PENDING_APPROVAL',
      mode: 'BLOCK',
      edge: 'none',
    });
    expect(raised.version).toBeGreaterThan(proposed.version!);
    // One proposal for ops; nothing at the edge and no email while it waits; a retry changes nothing.
    const before = await state(accountId);
    expect(before.restrictions).toHaveLength(1);
    expect(before.restrictions[0]).toMatchObject({ flagId: excess.id, level: 2, mode: 'BLOCK' });
    expect(Object.fromEntries(before.flags.map((f) => [f.kind, f.restrictionId]))).toEqual({
      SUSTAINED_EXCESS: null,
      ERROR_STORM: proposed.restrictionId,
      TOKEN_SPREAD: proposed.restrictionId,
    });
    expect(before.record).toBeNull();
    expect(before.notifications).toBe(0);
    expect(await evaluate(storm, 2)).toMatchObject({ outcome: 'unchanged', restrictionId: proposed.restrictionId });
    expect(await evaluate(spread, 2)).toMatchObject({ outcome: 'unchanged', version: raised.version });
    expect(await state(accountId)).toEqual(before);

    const approved = (await h.queue.enqueueAndWait(
      'enforcer',
      'review-flag',
      { flagId: storm.id, decision: 'approve', actor: OPS, reason: 'confirmed with the customer' },
      { jobId: `review-${storm.id}` },
    )) as Summary;
    expect(approved).toMatchObject({
      outcome: 'approved',
      restrictionId: proposed.restrictionId,
      mode: 'BLOCK',
      status: 'ACTIVE',
      edge: 'written',
    });
    expect(await h.prisma.restriction.count({ where: { accountId } })).toBe(1);
    expect(await h.store.get(accountId, 'account', null)).toMatchObject({ id: proposed.restrictionId, mode: 'block' });
    expect((await sentEmails(accountId, 1)).map((e) => e.change)).toEqual(['applied']);
    const audit = await h.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => [a.action, a.targetId])).toEqual([
      ['restriction.proposed', proposed.restrictionId],
      ['flag.attached', storm.id],
      ['restriction.escalated', proposed.restrictionId],
      ['flag.attached', spread.id],
      ['flag.approved', storm.id],
      ['restriction.approved', proposed.restrictionId],
    ]);
  });

  it('dismissing the flag that owns a proposal leaves the flags that joined it to make their own', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER, allowlisted: true });
    const excess = await createFlag(h.prisma, accountId, 'MEDIUM', 'SUSTAINED_EXCESS');
    const proposed = await evaluate(excess);
    const storm = await createFlag(h.prisma, accountId, 'MEDIUM', 'ERROR_STORM');
    expect(await evaluate(storm)).toMatchObject({ outcome: 'joined', restrictionId: proposed.restrictionId });

    await h.queue.enqueueAndWait(
      'enforcer',
      'review-flag',
      { flagId: excess.id, decision: 'dismiss', actor: OPS, reason: 'a migration we were told about' },
      { jobId: `review-${excess.id}` },
    );
    expect((await h.prisma.restriction.findUniqueOrThrow({ where: { id: proposed.restrictionId! } })).status).toBe(
      'REJECTED',
    );
    const own = await h.prisma.restriction.findFirstOrThrow({ where: { flagId: storm.id } });
    expect(own).toMatchObject({ status: 'PENDING_APPROVAL', mode: 'THROTTLE', level: 1 });
    // Its link to the rejected proposal is gone: it owns its proposal now.
    expect((await h.prisma.flag.findUniqueOrThrow({ where: { id: storm.id } })).restrictionId).toBeNull();
    expect(await h.store.get(accountId, 'account', null)).toBeNull();
    expect(await h.prisma.notification.count({ where: { accountId } })).toBe(0);
  });

  const dismiss = (flag: { id: string }, reason = 'false positive: a load test') =>
    h.queue.enqueueAndWait(
      'enforcer',
      'review-flag',
      { flagId: flag.id, decision: 'dismiss', actor: OPS, reason },
      { jobId: `review-${flag.id}` },
    ) as Promise<Summary>;

  it('dismissing the flag that escalated a restriction lowers it to what the flags left behind it warrant', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER });
    const storm = await createFlag(h.prisma, accountId, 'HIGH', 'ERROR_STORM');
    const first = await evaluate(storm);
    const spread = await createFlag(h.prisma, accountId, 'CRITICAL', 'TOKEN_SPREAD');
    const escalated = await evaluate(spread);
    expect(escalated).toMatchObject({ outcome: 'escalated', mode: 'BLOCK', restrictionId: first.restrictionId });
    const hammering = await createFlag(h.prisma, accountId, 'MEDIUM', 'ENDPOINT_HAMMERING');
    expect(await evaluate(hammering)).toMatchObject({ outcome: 'joined' });
    const blocked = await h.prisma.restriction.findUniqueOrThrow({ where: { id: first.restrictionId! } });

    // A flag that only joined adds nothing: dismissing it changes nothing.
    expect(await dismiss(hammering)).toMatchObject({ outcome: 'unchanged' });
    expect(await h.prisma.restriction.findUniqueOrThrow({ where: { id: blocked.id } })).toMatchObject({
      mode: 'BLOCK',
      version: blocked.version,
    });

    const lowered = await dismiss(spread);
    expect(lowered).toMatchObject({
      outcome: 'lowered',
      restrictionId: first.restrictionId,
      mode: 'THROTTLE',
      level: 1,
      status: 'ACTIVE',
      edge: 'written',
    });
    expect(lowered.version).toBeGreaterThan(blocked.version);
    const after = await h.prisma.restriction.findUniqueOrThrow({ where: { id: blocked.id } });
    expect(after).toMatchObject({ mode: 'THROTTLE', throttleFactor: 0.5, level: 1, flagId: storm.id });
    expect(after.expiresAt.getTime()).toBeLessThanOrEqual(blocked.expiresAt.getTime());
    expect(await h.store.get(accountId, 'account', null)).toMatchObject({
      id: blocked.id,
      mode: 'throttle',
      version: lowered.version,
    });
    const emails = await sentEmails(accountId, 3);
    expect(emails.map((e) => e.change)).toEqual(['applied', 'changed', 'changed']);
    expect(emails[2].raw).toContain('Rate limits reduced to 50% of your plan');
    const actions = (await h.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } })).map(
      (a) => a.action,
    );
    expect(actions.filter((a) => a.startsWith('restriction.'))).toEqual([
      'restriction.applied',
      'restriction.escalated',
      'restriction.lowered',
    ]);
  });

  it('dismissing the flag that raised a proposal lowers the proposal, with nothing at the edge or in the mail', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER, allowlisted: true });
    const excess = await createFlag(h.prisma, accountId, 'MEDIUM', 'SUSTAINED_EXCESS');
    const proposed = await evaluate(excess);
    const spread = await createFlag(h.prisma, accountId, 'CRITICAL', 'TOKEN_SPREAD');
    expect(await evaluate(spread)).toMatchObject({ outcome: 'escalated', mode: 'BLOCK', status: 'PENDING_APPROVAL' });
    expect(await dismiss(spread)).toMatchObject({
      outcome: 'lowered',
      restrictionId: proposed.restrictionId,
      mode: 'THROTTLE',
      status: 'PENDING_APPROVAL',
      edge: 'none',
    });
    expect(await h.store.get(accountId, 'account', null)).toBeNull();
    expect(await h.prisma.notification.count({ where: { accountId } })).toBe(0);
  });

  it('an automatic restriction takes in the proposal of the same incident that waited for ops: one restriction', async () => {
    const { accountId } = await createAccount(h.prisma, { enforcementConfig: LADDER });
    // MEDIUM is below the automatic threshold: a proposal. HIGH, on the same rung, applies at once.
    const excess = await createFlag(h.prisma, accountId, 'MEDIUM', 'SUSTAINED_EXCESS');
    const proposed = await evaluate(excess);
    expect(proposed).toMatchObject({ outcome: 'proposed', status: 'PENDING_APPROVAL', mode: 'THROTTLE' });
    const storm = await createFlag(h.prisma, accountId, 'HIGH', 'ERROR_STORM');
    const applied = await evaluate(storm);
    expect(applied).toMatchObject({ outcome: 'applied', status: 'ACTIVE', mode: 'THROTTLE', edge: 'written' });

    expect((await h.prisma.restriction.findUniqueOrThrow({ where: { id: proposed.restrictionId! } })).status).toBe(
      'REJECTED',
    );
    expect((await h.prisma.flag.findUniqueOrThrow({ where: { id: excess.id } })).restrictionId).toBe(
      applied.restrictionId,
    );
    expect(
      await h.prisma.restriction.count({ where: { accountId, status: { in: ['ACTIVE', 'PENDING_APPROVAL'] } } }),
    ).toBe(1);
    expect((await sentEmails(accountId, 1)).map((e) => e.change)).toEqual(['applied']);
    const audit = await h.prisma.auditEvent.findMany({ where: { accountId }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => [a.action, a.targetId])).toEqual([
      ['restriction.proposed', proposed.restrictionId],
      ['restriction.applied', applied.restrictionId],
      ['restriction.rejected', proposed.restrictionId],
      ['flag.attached', excess.id],
    ]);
    // Evaluated again, the waiting flag finds itself part of the restriction in force.
    expect(await evaluate(excess, 2)).toMatchObject({ outcome: 'unchanged', restrictionId: applied.restrictionId });
  });
});
