import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { type Notification, PrismaRepository } from '@usageguard/database';
import { MailRepository, renderNotification, type RestrictionEmailPayload } from '@usageguard/mail';
import { type OpsActor } from '@usageguard/contracts';
import { ConflictError, MetricsService, NotFoundError } from '@usageguard/observability';
import { QueueRepository, UnrecoverableJobError } from '@usageguard/queue';
import { SYSTEM_ACTOR, writeAudit } from './audit.writer';
import { recipientsOf } from './outbox.writer';

export interface ResendSummary {
  outcome: 'released';
  notificationId: string;
  recipients: string[];
}

export interface SendSummary {
  outcome: 'sent' | 'already-sent' | 'held' | 'unconfirmed' | 'no-recipients' | 'claimed-elsewhere';
  notificationId: string;
  messageId: string | null;
}

/**
 * Delivers one outbox row — never twice. Protocol (docs/enforcer.md, "Emails"):
 *   1. refuse if the row is SENT, or FAILED (held for ops);
 *   2. a row already claimed (message_id set) by an attempt that never recorded its outcome is unconfirmed: that
 *      attempt died between handing the message to SMTP and marking it, so it is held for ops, not resent;
 *   3. check the SMTP server answers (EHLO) before claiming, so an outage costs retries, not a held email;
 *   4. claim: set the deterministic Message-ID and count the attempt, committed before any byte of the message;
 *   5. send; on acceptance mark SENT. A refusal with an SMTP reply code is certain: 4xx releases the claim and
 *      retries with backoff, 5xx fails the row. An error without a reply (the connection broke mid-transaction)
 *      is uncertain and held like step 2.
 */
@Injectable()
export class NotificationSenderService {
  private readonly logger = new Logger(NotificationSenderService.name);
  private readonly domain: string;

  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(MailRepository) private readonly mail: MailRepository,
    @Inject(MetricsService) private readonly metrics: MetricsService,
    @Inject(QueueRepository) private readonly queue: QueueRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.domain = /@([^>\s]+)>?\s*$/.exec(config.mail.from)?.[1] ?? 'usageguard.local';
  }

  /** The same on every attempt and every process, so a mail server or client can recognise a resend. */
  messageIdOf(notificationId: string): string {
    return `<notification.${notificationId}@${this.domain}>`;
  }

  async send(notificationId: string): Promise<SendSummary> {
    const messageId = this.messageIdOf(notificationId);
    const found = await this.prisma.notification.findUnique({ where: { id: notificationId } });
    if (!found) throw new UnrecoverableJobError(`notification ${notificationId} not found`);
    const early = await this.verdictBeforeSending(found);
    if (early) return early;

    try {
      await this.mail.ping();
    } catch (error) {
      await this.prisma.notification.update({
        where: { id: notificationId },
        data: { lastError: `smtp unavailable: ${(error as Error).message}`.slice(0, 500) },
      });
      throw error;
    }

    const claimed = await this.prisma.notification.updateMany({
      where: { id: notificationId, status: 'PENDING', messageId: null },
      data: { messageId, attempts: { increment: 1 }, lastError: null },
    });
    if (claimed.count === 0) return { outcome: 'claimed-elsewhere', notificationId, messageId };

    const payload = found.payload as unknown as RestrictionEmailPayload & { at: string };
    const email = renderNotification(found.kind, payload, payload.at);
    try {
      await this.mail.send({
        to: found.recipients,
        subject: found.subject,
        html: email.html,
        text: email.text,
        messageId,
        headers: { 'X-UsageGuard-Idempotency-Key': found.idempotencyKey },
      });
    } catch (error) {
      await this.onSendError(found, error as Error & { responseCode?: number });
    }
    await this.prisma.notification.update({
      where: { id: notificationId },
      data: { status: 'SENT', sentAt: new Date(), lastError: null },
    });
    this.metrics
      .counter('usageguard_notifications_total', 'Outbox rows by outcome', ['outcome'])
      .inc({ outcome: 'sent' });
    return { outcome: 'sent', notificationId, messageId };
  }

  /**
   * Ops release a held email (status FAILED) after checking the mail log for its Message-ID: it goes back to PENDING,
   * to the account's current contacts (a hold for want of recipients is released once the account has some), and
   * its send job is queued. Its Message-ID stays the same, so a mail server or client that did get the first copy
   * of an unconfirmed attempt can recognise the second. Releasing twice is refused: only a held email can be.
   */
  async release(notificationId: string, actor: OpsActor, reason: string): Promise<ResendSummary> {
    const released = await this.prisma.$transaction(async (tx) => {
      const row = await tx.notification.findUnique({ where: { id: notificationId } });
      if (!row) throw new NotFoundError('notification', notificationId);
      const contacts = await tx.notificationContact.findMany({
        where: { accountId: row.accountId },
        select: { email: true },
        orderBy: { email: 'asc' },
      });
      if (contacts.length === 0) {
        throw new ConflictError('no_recipients', 'the account has no notification contacts: add one, then resend');
      }
      const recipients = recipientsOf(contacts);
      // Conditional on the row still being held: of two concurrent releases, one changes it and the other is refused.
      const changed = await tx.notification.updateMany({
        where: { id: notificationId, status: 'FAILED' },
        data: { status: 'PENDING', messageId: null, lastError: null, recipients },
      });
      if (changed.count === 0) {
        throw new ConflictError('not_held', `notification ${notificationId} is ${row.status}, not held`);
      }
      await writeAudit(tx, {
        actor,
        action: 'notification.released',
        targetType: 'notification',
        targetId: notificationId,
        accountId: row.accountId,
        before: { status: row.status, recipients: row.recipients, lastError: row.lastError },
        after: { status: 'PENDING', recipients },
        reason,
      });
      return { attempts: row.attempts, recipients };
    });
    // A job id of its own: the first send's job (notify-<id>) may still be kept by the queue.
    await this.queue.enqueue(
      'mail',
      'send-notification',
      { notificationId },
      { jobId: `notify-${notificationId}-after-${released.attempts}`, attempts: 15 },
    );
    this.metrics
      .counter('usageguard_notifications_total', 'Outbox rows by outcome', ['outcome'])
      .inc({ outcome: 'released' });
    return { outcome: 'released', notificationId, recipients: released.recipients };
  }

  private async verdictBeforeSending(row: Notification): Promise<SendSummary | null> {
    const base = { notificationId: row.id, messageId: row.messageId };
    if (row.status === 'SENT') return { outcome: 'already-sent', ...base };
    if (row.status === 'FAILED') return { outcome: 'held', ...base };
    if (row.recipients.length === 0) {
      await this.hold(row, 'no notification contacts on the account', 'notification.no-recipients');
      return { outcome: 'no-recipients', ...base };
    }
    if (row.messageId !== null) {
      await this.hold(
        row,
        `unconfirmed: attempt ${row.attempts} ended between SMTP and marking; check the mail log for ${row.messageId} before resending`,
        'notification.unconfirmed',
      );
      return { outcome: 'unconfirmed', ...base };
    }
    return null;
  }

  private async onSendError(row: Notification, error: Error & { responseCode?: number }): Promise<never> {
    const code = error.responseCode;
    if (typeof code === 'number' && code >= 400 && code < 500) {
      // The server said no: nothing was accepted, so the claim is released and a retry may send.
      await this.prisma.notification.update({
        where: { id: row.id },
        data: { messageId: null, lastError: `smtp ${code}: ${error.message}`.slice(0, 500) },
      });
      throw error;
    }
    if (typeof code === 'number' && code >= 500) {
      await this.hold(row, `smtp ${code}: ${error.message}`, 'notification.rejected');
      throw new UnrecoverableJobError(`notification ${row.id}: smtp ${code}`);
    }
    await this.hold(
      row,
      `unconfirmed: ${error.message}; check the mail log for ${this.messageIdOf(row.id)}`,
      'notification.unconfirmed',
    );
    throw new UnrecoverableJobError(`notification ${row.id}: delivery unconfirmed`);
  }

  private async hold(row: Notification, reason: string, action: string): Promise<void> {
    this.logger.warn(`notification ${row.id} held: ${reason}`);
    this.metrics
      .counter('usageguard_notifications_total', 'Outbox rows by outcome', ['outcome'])
      .inc({ outcome: action.replace('notification.', '') });
    await this.prisma.$transaction(async (tx) => {
      const after = await tx.notification.update({
        where: { id: row.id },
        data: { status: 'FAILED', lastError: reason.slice(0, 500) },
      });
      await writeAudit(tx, {
        actor: SYSTEM_ACTOR,
        action,
        targetType: 'notification',
        targetId: row.id,
        accountId: row.accountId,
        before: { status: row.status, attempts: row.attempts },
        after: { status: after.status, attempts: after.attempts, messageId: after.messageId },
        reason,
      });
    });
  }
}
