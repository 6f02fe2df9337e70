import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpsActor } from '@usageguard/contracts';
import { waitFor } from '@usageguard/testing';
import { applyManualThrottle, createAccount, createHarness, type EnforcerHarness } from './harness';

const OPS: OpsActor = { type: 'OPS_USER', id: '5b0e7d52-6a42-4c1e-9a57-1f0c3a9e2b11', requestId: 'req-resend' };

describe('a held email sent again by ops (real Postgres, BullMQ, SMTP)', () => {
  let h: EnforcerHarness;

  beforeAll(async () => {
    h = await createHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  const resend = (notificationId: string, attempt: number) =>
    h.queue.enqueueAndWait(
      'enforcer',
      'resend-notification',
      { notificationId, actor: OPS, reason: 'not in the relay log' },
      { jobId: `resend-${notificationId}-${attempt}` },
    );

  it('is held for want of recipients, refused until the account has one, then delivered exactly once', async () => {
    const { accountId } = await createAccount(h.prisma);
    await h.prisma.notificationContact.deleteMany({ where: { accountId } });
    await applyManualThrottle(h.queue, accountId, OPS);
    const held = await waitFor(
      async () => {
        const row = await h.prisma.notification.findFirst({ where: { accountId } });
        return row?.status === 'FAILED' ? row : undefined;
      },
      { what: 'the email held' },
    );
    expect(held.recipients).toEqual([]);
    expect(held.lastError).toMatch(/no notification contacts/);

    await expect(resend(held.id, 1)).rejects.toThrow(/no_recipients/);
    expect((await h.prisma.notification.findUniqueOrThrow({ where: { id: held.id } })).status).toBe('FAILED');

    await h.prisma.notificationContact.create({ data: { accountId, email: 'billing@late-contact.test' } });
    expect(await resend(held.id, 2)).toMatchObject({
      outcome: 'released',
      notificationId: held.id,
      recipients: ['billing@late-contact.test'],
    });
    const sent = await waitFor(
      async () => {
        const row = await h.prisma.notification.findUniqueOrThrow({ where: { id: held.id } });
        return row.status === 'SENT' ? row : undefined;
      },
      { what: 'the released email sent' },
    );
    const copies = h.smtp.byMessageId(sent.messageId!);
    expect(copies).toHaveLength(1);
    expect(copies[0].to).toContain('billing@late-contact.test');

    // Only a held email can be released: a second click, or one on a sent email, changes nothing.
    await expect(resend(held.id, 3)).rejects.toThrow(/not_held/);
    expect(h.smtp.byMessageId(sent.messageId!)).toHaveLength(1);
    const audit = await h.prisma.auditEvent.findMany({
      where: { targetId: held.id },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((a) => [a.action, a.actorType])).toEqual([
      ['notification.no-recipients', 'SYSTEM'],
      ['notification.released', 'OPS_USER'],
    ]);
    expect(audit[1]).toMatchObject({ reason: 'not in the relay log' });
  });
});
