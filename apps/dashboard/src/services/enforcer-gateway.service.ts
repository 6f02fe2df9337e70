import { Inject, Injectable, Logger } from '@nestjs/common';
import { type JobName, type JobPayload, type OpsActor, QUEUES } from '@usageguard/contracts';
import { ConflictError, UnavailableError } from '@usageguard/observability';
import { QueueRepository } from '@usageguard/queue';
import { createHash } from 'node:crypto';
import { type OpsPrincipal } from '../auth/auth.types';
import { type RequestContext } from '../auth/request-context';
import { AuditService } from './audit.service';

type EnforcerJob =
  'review-flag' | 'apply-restriction' | 'extend-restriction' | 'lift-restriction' | 'resend-notification';

/** How long an operator's click waits for the enforcer before the dashboard answers 503 (the job still runs). */
export const ENFORCER_WAIT_MS = 15_000;

export const opsActor = (principal: OpsPrincipal, context: RequestContext): OpsActor => ({
  type: 'OPS_USER',
  id: principal.userId,
  requestId: context.requestId,
});

/**
 * Ops decisions about flags and restrictions go through the enforcer's queue, so every change to a restriction
 * has one path (Redis record, outbox email, expiry job). The job id is derived from the request, so a retried
 * click (same Idempotency-Key) joins the first job instead of acting twice. The dashboard audits the request and
 * its outcome; the enforcer audits the state change it makes.
 */
@Injectable()
export class EnforcerGateway {
  private readonly logger = new Logger(EnforcerGateway.name);

  constructor(
    @Inject(QueueRepository) private readonly queue: QueueRepository,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async run<J extends EnforcerJob & JobName<'enforcer'>>(
    name: J,
    payload: JobPayload<'enforcer', J>,
    target: { type: string; id: string; accountId: string | null },
    principal: OpsPrincipal,
    context: RequestContext,
    reason: string,
  ): Promise<unknown> {
    const jobId = `dashboard-${name}-${createHash('sha256')
      .update(`${name}\n${target.id}\n${principal.userId}\n${context.idempotencyKey}`)
      .digest('hex')
      .slice(0, 32)}`;
    const entry = {
      actor: principal,
      action: `dashboard.${name}`,
      targetType: target.type,
      targetId: target.id,
      accountId: target.accountId,
      reason,
      requestId: context.requestId,
    };
    try {
      const result = await this.queue.enqueueAndWait(QUEUES.enforcer, name, payload, {
        jobId,
        timeoutMs: ENFORCER_WAIT_MS,
      });
      await this.audit.record({ ...entry, after: { jobId, outcome: 'done', request: payload, result } });
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const timedOut = /timed out/i.test(message);
      await this.audit.record({
        ...entry,
        after: { jobId, outcome: timedOut ? 'pending' : 'failed', request: payload, error: message },
      });
      this.logger.warn(`enforcer ${name} ${jobId}: ${message}`);
      if (timedOut) {
        throw new UnavailableError('enforcer_timeout', 'the enforcer did not answer in time; the action is queued');
      }
      throw new ConflictError('enforcer_refused', message);
    }
  }
}
