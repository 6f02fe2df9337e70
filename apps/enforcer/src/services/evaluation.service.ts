import { Inject, Injectable } from '@nestjs/common';
import { type JobPayload, type OpsActor } from '@usageguard/contracts';
import { type Flag, PrismaRepository, type Restriction } from '@usageguard/database';
import { countOffences, decideEnforcement, isEscalation, type LadderDecision } from '@usageguard/domain';
import { NotFoundError } from '@usageguard/observability';
import { SYSTEM_ACTOR, writeAudit } from './audit.writer';
import { type RestrictionSummary, summarize } from './restriction.mapper';
import { type EmailAccount, RestrictionService } from './restriction.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns flags into restrictions with the plan's ladder (libs/domain/src/enforcement), and carries out ops' review
 * of a flag. Restriction changes themselves go through RestrictionService.
 */
@Injectable()
export class EvaluationService {
  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(RestrictionService) private readonly restrictions: RestrictionService,
  ) {}

  async evaluateFlag(flagId: string, flagVersion: number): Promise<RestrictionSummary> {
    const flag = await this.prisma.flag.findUnique({ where: { id: flagId } });
    if (!flag) return summarize('skipped', null, 'none', `flag ${flagId} not found`);
    if (flag.version > flagVersion) return summarize('skipped', null, 'none', `flag is at v${flag.version} now`);
    if (flag.version < flagVersion)
      throw new Error(`flag ${flagId} is at v${flag.version}, job is for v${flagVersion}`);
    if (flag.status !== 'OPEN') return summarize('skipped', null, 'none', `flag is ${flag.status}`);

    const { decision, current, recipients } = await this.decide(flag);
    if (current && !isEscalation(current, decision)) {
      // Same rung as before (a retry, or a re-scored flag): make sure the edge and the jobs match Postgres.
      return summarize('unchanged', current, await this.restrictions.sync(current));
    }
    return this.restrictions.apply({
      ...this.fromDecision(flag, decision),
      status: decision.approval === 'auto' ? 'ACTIVE' : 'PENDING_APPROVAL',
      actor: SYSTEM_ACTOR,
      replacesPendingId: current?.status === 'PENDING_APPROVAL' ? current.id : null,
      flag,
      recipients,
    });
  }

  async reviewFlag(payload: JobPayload<'enforcer', 'review-flag'>): Promise<RestrictionSummary> {
    const { flagId, decision, actor, reason } = payload;
    const flag = await this.prisma.flag.findUnique({ where: { id: flagId } });
    if (!flag) throw new NotFoundError('flag', flagId);
    return decision === 'approve' ? this.approve(flag, actor, reason) : this.dismiss(flag, actor, reason);
  }

  private async approve(flag: Flag, actor: OpsActor, reason: string): Promise<RestrictionSummary> {
    await this.markReviewed(flag, actor, reason, 'flag.approved', {});
    const pending = await this.latestOfFlag(flag.id, ['PENDING_APPROVAL']);
    if (pending) return this.restrictions.approve(pending.id, actor, reason);
    const active = await this.latestOfFlag(flag.id, ['ACTIVE']);
    if (active) return summarize('unchanged', active, await this.restrictions.sync(active), 'already active');
    // Approved before the enforcer proposed anything: ops' approval stands in for the automatic threshold.
    const { decision } = await this.decide(flag);
    return this.restrictions.apply({ ...this.fromDecision(flag, decision), status: 'ACTIVE', actor, flag });
  }

  /** A dismissed flag was a mistake: its proposals are rejected and its restrictions lifted (and forgiven). */
  private async dismiss(flag: Flag, actor: OpsActor, reason: string): Promise<RestrictionSummary> {
    await this.markReviewed(flag, actor, reason, 'flag.dismissed', {
      status: 'DISMISSED',
      openKey: null,
      resolvedAt: new Date(),
    });
    const open = await this.prisma.restriction.findMany({
      where: { flagId: flag.id, status: { in: ['PENDING_APPROVAL', 'ACTIVE'] } },
      orderBy: { createdAt: 'desc' },
    });
    let last: RestrictionSummary = summarize('unchanged', null, 'none', 'flag dismissed; nothing to lift');
    for (const restriction of open) {
      last = await this.restrictions.end(restriction.id, 'lifted', actor, `flag dismissed: ${reason}`);
    }
    return last;
  }

  private async markReviewed(
    flag: Flag,
    actor: OpsActor,
    reason: string,
    action: string,
    data: { status?: 'DISMISSED'; openKey?: null; resolvedAt?: Date },
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const after = await tx.flag.update({
        where: { id: flag.id },
        data: {
          ...data,
          reviewedBy: actor.id && UUID.test(actor.id) ? actor.id : null,
          reviewNote: reason,
        },
      });
      await writeAudit(tx, {
        actor,
        action,
        targetType: 'flag',
        targetId: flag.id,
        accountId: flag.accountId,
        before: { status: flag.status, reviewNote: flag.reviewNote },
        after: { status: after.status, reviewNote: after.reviewNote },
        reason,
      });
    });
  }

  /** Everything the ladder needs, read at once (and the email recipients, so apply need not read them again). */
  private async decide(
    flag: Flag,
  ): Promise<{ decision: LadderDecision; current: Restriction | null; recipients: EmailAccount }> {
    const now = new Date();
    // The widest window a plan may set; the plan's own window is applied by countOffences.
    const since = new Date(now.getTime() - 365 * 86_400_000);
    const [account, past, current, recipients] = await Promise.all([
      this.prisma.account.findUniqueOrThrow({
        where: { id: flag.accountId },
        include: { plan: { select: { key: true, enforcementConfig: true, limitStatusCode: true } } },
      }),
      this.prisma.restriction.findMany({
        where: { accountId: flag.accountId, createdAt: { gte: since } },
        select: { id: true, flagId: true, status: true, createdAt: true, flag: { select: { status: true } } },
      }),
      this.latestOfFlag(flag.id, ['ACTIVE', 'PENDING_APPROVAL']),
      this.restrictions.emailAccount(this.prisma, flag.accountId),
    ]);
    const config = RestrictionService.configOf(account.plan);
    const decision = decideEnforcement({
      config,
      severity: flag.severity,
      priorOffences: countOffences(
        past.map((r) => ({ ...r, forgiven: r.flag?.status === 'DISMISSED' })),
        { now, windowDays: config.repeatWindowDays, excludeFlagId: flag.id },
      ),
      allowlisted: account.allowlisted,
      planStatusCode: account.plan.limitStatusCode,
    });
    return { decision, current, recipients };
  }

  private latestOfFlag(flagId: string, statuses: Restriction['status'][]): Promise<Restriction | null> {
    return this.prisma.restriction.findFirst({
      where: { flagId, status: { in: statuses } },
      orderBy: [{ level: 'desc' }, { createdAt: 'desc' }],
    });
  }

  private fromDecision(flag: Flag, decision: LadderDecision) {
    return {
      accountId: flag.accountId,
      flagId: flag.id,
      scope: 'ACCOUNT' as const,
      scopeValue: null,
      mode: decision.mode.toUpperCase() as 'NOTIFY' | 'THROTTLE' | 'BLOCK',
      throttleFactor: decision.throttleFactor,
      statusCode: decision.statusCode,
      reasonCode: decision.reasonCode,
      reason: [flag.summary, decision.explanation].filter(Boolean).join(' — '),
      level: decision.level,
      durationSeconds: decision.durationSeconds,
    };
  }
}
