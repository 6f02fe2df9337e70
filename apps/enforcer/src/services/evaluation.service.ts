import { Inject, Injectable } from '@nestjs/common';
import { type JobPayload, type OpsActor } from '@usageguard/contracts';
import { type Flag, type Prisma, PrismaRepository, type Restriction } from '@usageguard/database';
import { countOffences, decideEnforcement, type LadderDecision } from '@usageguard/domain';
import { NotFoundError } from '@usageguard/observability';
import { SYSTEM_ACTOR, writeAudit } from './audit.writer';
import { type RestrictionSummary, summarize } from './restriction.mapper';
import { RestrictionService } from './restriction.service';

type Tx = Prisma.TransactionClient;

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

    return this.enforce(flag, SYSTEM_ACTOR);
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
    // The flag joined another flag's proposal: approving it approves that proposal.
    const joined = flag.restrictionId
      ? await this.prisma.restriction.findUnique({ where: { id: flag.restrictionId } })
      : null;
    if (joined?.status === 'PENDING_APPROVAL') return this.restrictions.approve(joined.id, actor, reason);
    // Approved before the enforcer proposed anything (or the flag joined a restriction in force): ops' approval
    // stands in for the automatic threshold.
    return this.enforce(flag, actor, true);
  }

  /** The ladder's decision for a flag, weighed against the restriction in force (RestrictionService.enforceFlag). */
  private enforce(flag: Flag, actor: OpsActor, approved = false): Promise<RestrictionSummary> {
    return this.restrictions.enforceFlag({
      flag,
      actor,
      approved,
      decide: async (tx, inForce) => {
        const decision = await this.decide(tx, flag, inForce);
        return { decision, restriction: this.fromDecision(flag, decision) };
      },
    });
  }

  /**
   * A dismissed flag was a mistake: its proposals are rejected and its restrictions lifted (and forgiven); a restriction
   * it had only joined or raised keeps what the other flags behind it warrant (RestrictionService.reweigh).
   */
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
    // A flag that only joined (or raised) a restriction or proposal: what it added goes with it.
    if (flag.restrictionId && !open.some((r) => r.id === flag.restrictionId)) {
      const reweighed = await this.restrictions.reweigh(
        flag.restrictionId,
        actor,
        `flag ${flag.id} dismissed: ${reason}`,
        async (tx, backer, inForce) => {
          const decision = await this.decide(tx, backer, inForce);
          return { decision, restriction: this.fromDecision(backer, decision) };
        },
      );
      if (reweighed.outcome === 'lowered') last = reweighed;
    }
    // Flags that had joined a lifted restriction still stand on their own evidence: each is weighed again.
    const joined = await this.prisma.flag.findMany({
      where: { restrictionId: { in: open.map((r) => r.id) }, status: 'OPEN', id: { not: flag.id } },
      orderBy: { createdAt: 'asc' },
    });
    for (const other of joined) await this.enforce(other, SYSTEM_ACTOR);
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

  /**
   * The ladder's decision for a flag, read under the account lock. The restriction in force it would join is the
   * same incident, not an earlier offence (a warning is: the customer was told, and went on).
   */
  private async decide(tx: Tx, flag: Flag, inForce: Restriction | null): Promise<LadderDecision> {
    const now = new Date();
    // The widest window a plan may set; the plan's own window is applied by countOffences.
    const since = new Date(now.getTime() - 365 * 86_400_000);
    const account = await tx.account.findUniqueOrThrow({
      where: { id: flag.accountId },
      include: { plan: { select: { key: true, enforcementConfig: true, limitStatusCode: true } } },
    });
    const past = await tx.restriction.findMany({
      where: { accountId: flag.accountId, createdAt: { gte: since } },
      select: { id: true, flagId: true, status: true, createdAt: true, flag: { select: { status: true } } },
    });
    const config = RestrictionService.configOf(account.plan);
    return decideEnforcement({
      config,
      severity: flag.severity,
      priorOffences: countOffences(
        past.map((r) => ({ ...r, forgiven: r.flag?.status === 'DISMISSED' })),
        {
          now,
          windowDays: config.repeatWindowDays,
          excludeFlagId: flag.id,
          excludeRestrictionId: inForce && inForce.mode !== 'NOTIFY' ? inForce.id : null,
        },
      ),
      allowlisted: account.allowlisted,
      planStatusCode: account.plan.limitStatusCode,
    });
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
