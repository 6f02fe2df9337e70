import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpsActor } from '@usageguard/contracts';
import { sleep, waitFor } from '@usageguard/testing';
import { createAccount, createHarness, type EnforcerHarness } from './harness';

const OPS: OpsActor = { type: 'OPS_USER', id: null, requestId: null };

describe('customer emails while SMTP is down (real SMTP server behind a fault proxy)', () => {
  let h: EnforcerHarness;

  beforeAll(async () => {
    h = await createHarness({ smtpProxy: true });
  });

  afterAll(async () => {
    await h?.close();
  });

  const block = async (accountId: string) =>
    h.queue.enqueueAndWait(
      'enforcer',
      'apply-restriction',
      {
        accountId,
        mode: 'block',
        scope: 'account',
        scopeValue: null,
        throttleFactor: null,
        statusCode: 429,
        reasonCode: 'reasonable_use',
        durationSeconds: 600,
        flagId: null,
        actor: OPS,
        reason: 'manual',
      },
      { jobId: `apply-${accountId}` },
    );

  const retriedWhileDown = async (accountId: string) => {
    const row = await waitFor(
      async () => {
        const n = await h.prisma.notification.findFirst({ where: { accountId } });
        return n?.lastError?.startsWith('smtp unavailable') ? n : undefined;
      },
      { what: 'a failed delivery attempt', timeoutMs: 15_000 },
    );
    // Several retries with backoff go by while the outage lasts.
    await sleep(2_000);
    return row;
  };

  it('the connection is cut for a while: the email is delivered once after SMTP returns', async () => {
    const { accountId } = await createAccount(h.prisma);
    h.smtpProxy!.cut();
    await block(accountId);
    const row = await retriedWhileDown(accountId);
    expect(h.smtp.received.filter((m) => m.idempotencyKey === row.idempotencyKey)).toHaveLength(0);
    expect((await h.prisma.notification.findUniqueOrThrow({ where: { id: row.id } })).status).toBe('PENDING');

    h.smtpProxy!.restore();
    const sent = await waitFor(
      async () => {
        const n = await h.prisma.notification.findUniqueOrThrow({ where: { id: row.id } });
        return n.status === 'SENT' ? n : undefined;
      },
      { what: 'delivery after the outage', timeoutMs: 30_000 },
    );
    expect(h.smtp.byMessageId(sent.messageId!)).toHaveLength(1);
    expect(sent.attempts).toBe(1); // refused attempts never claimed the row
  });

  it('the server answers 421 for a while: retried with backoff, delivered once when it accepts again', async () => {
    const { accountId } = await createAccount(h.prisma);
    h.smtp.refusing = true;
    await block(accountId);
    const row = await retriedWhileDown(accountId);
    expect(row.lastError).toContain('421');
    h.smtp.refusing = false;
    const sent = await waitFor(
      async () => {
        const n = await h.prisma.notification.findUniqueOrThrow({ where: { id: row.id } });
        return n.status === 'SENT' ? n : undefined;
      },
      { what: 'delivery after the refusals', timeoutMs: 30_000 },
    );
    expect(h.smtp.byMessageId(sent.messageId!)).toHaveLength(1);
  });
});
