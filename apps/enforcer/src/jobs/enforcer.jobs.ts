import { Inject, Injectable } from '@nestjs/common';
import { type JobPayload } from '@usageguard/contracts';
import { DomainError } from '@usageguard/observability';
import { JobHandler, UnrecoverableJobError } from '@usageguard/queue';
import { SYSTEM_ACTOR } from '../services/audit.writer';
import { EvaluationService } from '../services/evaluation.service';
import { NotificationSenderService, type ResendSummary } from '../services/notification-sender.service';
import { ReconcileService, type ReconcileSummary } from '../services/reconcile.service';
import { type RestrictionSummary } from '../services/restriction.mapper';
import { RestrictionService } from '../services/restriction.service';

/**
 * The enforcer queue's handlers: thin, typed entry points. Domain errors (not found, conflict, invalid plan) are
 * permanent and discarded with their message, which the dashboard shows; anything else throws for a retry.
 */
@Injectable()
export class EnforcerJobs {
  constructor(
    @Inject(EvaluationService) private readonly evaluation: EvaluationService,
    @Inject(RestrictionService) private readonly restrictions: RestrictionService,
    @Inject(ReconcileService) private readonly reconciler: ReconcileService,
    @Inject(NotificationSenderService) private readonly sender: NotificationSenderService,
  ) {}

  @JobHandler('enforcer', 'evaluate-flag')
  evaluateFlag(payload: JobPayload<'enforcer', 'evaluate-flag'>): Promise<RestrictionSummary> {
    return permanent(() => this.evaluation.evaluateFlag(payload.flagId, payload.flagVersion));
  }

  @JobHandler('enforcer', 'expire-restriction')
  expireRestriction(payload: JobPayload<'enforcer', 'expire-restriction'>): Promise<RestrictionSummary> {
    return permanent(() =>
      this.restrictions.end(payload.restrictionId, 'expired', SYSTEM_ACTOR, 'expired', payload.version),
    );
  }

  @JobHandler('enforcer', 'reconcile-restrictions')
  reconcile(): Promise<ReconcileSummary> {
    return this.reconciler.reconcile();
  }

  @JobHandler('enforcer', 'review-flag')
  reviewFlag(payload: JobPayload<'enforcer', 'review-flag'>): Promise<RestrictionSummary> {
    return permanent(() => this.evaluation.reviewFlag(payload));
  }

  @JobHandler('enforcer', 'apply-restriction')
  applyRestriction(payload: JobPayload<'enforcer', 'apply-restriction'>): Promise<RestrictionSummary> {
    return permanent(() => {
      if (
        payload.mode === 'throttle' &&
        !(payload.throttleFactor !== null && payload.throttleFactor > 0 && payload.throttleFactor < 1)
      ) {
        throw new DomainError('invalid_throttle_factor', 'throttle needs a throttleFactor between 0 and 1');
      }
      if (payload.scope !== 'account' && !payload.scopeValue) {
        throw new DomainError('scope_value_required', `scope ${payload.scope} needs a scopeValue`);
      }
      if (!(payload.durationSeconds > 0)) throw new DomainError('invalid_duration', 'durationSeconds must be positive');
      return this.restrictions.apply({
        accountId: payload.accountId,
        flagId: payload.flagId,
        scope: payload.scope.toUpperCase() as 'ACCOUNT' | 'TOKEN' | 'IP' | 'ROUTE',
        scopeValue: payload.scopeValue,
        mode: payload.mode.toUpperCase() as 'NOTIFY' | 'THROTTLE' | 'BLOCK',
        throttleFactor: payload.throttleFactor,
        statusCode: payload.statusCode,
        reasonCode: payload.reasonCode,
        reason: payload.reason,
        level: 0,
        durationSeconds: payload.durationSeconds,
        status: 'ACTIVE',
        actor: payload.actor,
      });
    });
  }

  @JobHandler('enforcer', 'extend-restriction')
  extendRestriction(payload: JobPayload<'enforcer', 'extend-restriction'>): Promise<RestrictionSummary> {
    return permanent(() => {
      const expiresAt = new Date(payload.expiresAt);
      if (Number.isNaN(expiresAt.getTime())) throw new DomainError('invalid_expiry', 'expiresAt is not a date');
      return this.restrictions.extend(payload.restrictionId, expiresAt, payload.actor, payload.reason);
    });
  }

  @JobHandler('enforcer', 'lift-restriction')
  liftRestriction(payload: JobPayload<'enforcer', 'lift-restriction'>): Promise<RestrictionSummary> {
    return permanent(() => this.restrictions.end(payload.restrictionId, 'lifted', payload.actor, payload.reason));
  }

  @JobHandler('enforcer', 'resend-notification')
  resendNotification(payload: JobPayload<'enforcer', 'resend-notification'>): Promise<ResendSummary> {
    return permanent(() => this.sender.release(payload.notificationId, payload.actor, payload.reason));
  }
}

/** A DomainError will not get better on retry: discard the job with its message. */
async function permanent<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError) throw new UnrecoverableJobError(`${error.code}: ${error.message}`);
    throw error;
  }
}
