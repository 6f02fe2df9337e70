import { Inject, Injectable } from '@nestjs/common';
import { type JobPayload } from '@usageguard/contracts';
import { JobHandler } from '@usageguard/queue';
import { NotificationSenderService, type SendSummary } from '../services/notification-sender.service';

/** The mail queue: one outbox row per job; retries with backoff while SMTP refuses (see the sender's protocol). */
@Injectable()
export class MailJobs {
  constructor(@Inject(NotificationSenderService) private readonly sender: NotificationSenderService) {}

  @JobHandler('mail', 'send-notification')
  sendNotification(payload: JobPayload<'mail', 'send-notification'>): Promise<SendSummary> {
    return this.sender.send(payload.notificationId);
  }
}
