import { Module } from '@nestjs/common';
import { RestrictionStore } from '@usageguard/redis';
import { EnforcerJobs } from './jobs/enforcer.jobs';
import { MailJobs } from './jobs/mail.jobs';
import { EvaluationService } from './services/evaluation.service';
import { NotificationSenderService } from './services/notification-sender.service';
import { ReconcileService } from './services/reconcile.service';
import { RestrictionService } from './services/restriction.service';

/**
 * The enforcer: flags → restrictions (graded ladder, auto or ops-approved) → the edge's Redis copy, expiry and
 * lift, customer emails through the outbox, and the audit log. Infrastructure comes from the root module.
 */
@Module({
  providers: [
    RestrictionStore,
    RestrictionService,
    EvaluationService,
    NotificationSenderService,
    ReconcileService,
    EnforcerJobs,
    MailJobs,
  ],
})
export class EnforcerModule {}
