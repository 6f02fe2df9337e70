import { Inject, Injectable, Logger } from '@nestjs/common';
import { type OpsActor } from '@usageguard/contracts';
import {
  type Flag,
  type Prisma,
  PrismaRepository,
  type Restriction,
  type RestrictionMode,
  type RestrictionScope,
} from '@usageguard/database';
import {
  type EnforcementConfig,
  isEscalation,
  type LadderDecision,
  parseEnforcementConfig,
  weighFlag,
} from '@usageguard/domain';
import { ConflictError, MetricsService, NotFoundError } from '@usageguard/observability';
import { QueueRepository } from '@usageguard/queue';
import { RestrictionStore } from '@usageguard/redis';
import { writeAudit } from './audit.writer';
import { type NotificationChange, writeNotification } from './outbox.writer';
import {
  isEdgeRestriction,
  type RestrictionSummary,
  scopeName,
  summarize,
  toInForce,
  toRecord,
} from './restriction.mapper';

type Tx = Prisma.TransactionClient;

export interface EmailAccount {
  id: string;
  name: string;
  contacts: { email: string }[];
  plan: { enforcementConfig: unknown };
}

export interface NewRestriction {
  accountId: string;
  flagId: string | null;
  scope: RestrictionScope;
  scopeValue: string | null;
  mode: RestrictionMode;
  throttleFactor: number | null;
  statusCode: number;
  reasonCode: string;
  reason: string;
  level: number;
  durationSeconds: number;
  /** ACTIVE applies now; PENDING_APPROVAL waits for ops (review-flag). */
  status: 'ACTIVE' | 'PENDING_APPROVAL';
  actor: OpsActor;
  /** A proposal of the same flag this one replaces (escalation while ops had not decided yet). */
  replacesPendingId?: string | null;
  /** The flag behind it, when the caller has it already (its evidence goes into the email). */
  flag?: Flag | null;
  /** The account as its emails need it, when the caller read it already (see emailAccount). */
  recipients?: EmailAccount;
}

/** What a flag asks for, decided by the ladder under the account lock (see enforceFlag). */
export interface FlagDecision {
  decision: LadderDecision;
  restriction: Omit<NewRestriction, 'status' | 'actor' | 'replacesPendingId' | 'flag' | 'recipients'>;
}

export interface FlagEnforcement {
  flag: Flag;
  actor: OpsActor;
  /** Ops approved the flag: their approval stands in for the automatic threshold. */
  approved?: boolean;
  /**
   * The ladder's decision for the flag. `inForce` is the account-wide restriction in force that the flag would join:
   * the same incident, so not an earlier offence.
   */
  decide(tx: Tx, inForce: Restriction | null): Promise<FlagDecision>;
}

type Written = { restriction: Restriction; notifications: string[] };

/** What a restriction takes from a ladder rung when it changes in place (escalated, lowered, a proposal raised). */
function rungFields(rung: FlagDecision['restriction'], expiresAt: Date): Prisma.RestrictionUpdateInput {
  return {
    mode: rung.mode,
    throttleFactor: rung.mode === 'THROTTLE' ? rung.throttleFactor : null,
    statusCode: rung.statusCode,
    reasonCode: rung.reasonCode,
    reason: rung.reason.slice(0, 500),
    level: rung.level,
    expiresAt,
  };
}

/**
 * Every change to a restriction goes through here: automatic (evaluate-flag, expiry) and manual (dashboard). Each
 * change is one Postgres transaction — the restriction, its outbox email and its audit event commit together,
 * under a lock on the account row so changes of one account are serialized and versions never repeat — and then
 * the edge's Redis copy is written, and the expiry and email jobs are enqueued (deterministic ids; reconcile
 * repeats both if this process dies in between).
 */
@Injectable()
export class RestrictionService {
  private readonly logger = new Logger(RestrictionService.name);

  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(RestrictionStore) private readonly store: RestrictionStore,
    @Inject(QueueRepository) private readonly queue: QueueRepository,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  async apply(input: NewRestriction): Promise<RestrictionSummary> {
    const now = new Date();
    // Who gets the email is read before the transaction: it need not be locked, and the transaction stays short.
    const account = input.recipients ?? (await this.emailAccount(this.prisma, input.accountId));
    const { restriction, notifications } = await this.transaction(async (tx) => {
      await this.lockAccount(tx, input.accountId);
      return this.create(tx, input, account, now);
    });
    this.countCreated(restriction);
    return this.afterCommit(restriction.status === 'ACTIVE' ? 'applied' : 'proposed', restriction, notifications);
  }

  /**
   * A flag for an account: decided under the account lock, so two flags of one account never both see "nothing in
   * force". A flag joins the account-wide restriction in force unless it warrants something stronger; then that
   * restriction is escalated in place (one "changed" email). Only without one does the flag get its own.
   */
  async enforceFlag(input: FlagEnforcement): Promise<RestrictionSummary> {
    const { flag, actor } = input;
    const now = new Date();
    const account = await this.emailAccount(this.prisma, flag.accountId);
    const result = await this.transaction(async (tx) => {
      await this.lockAccount(tx, flag.accountId);
      // Read again under the lock: a flag dismissed or re-scored meanwhile is not enforced at its old state.
      const locked = await tx.flag.findUnique({ where: { id: flag.id }, select: { status: true, version: true } });
      if (locked?.status !== 'OPEN' || locked.version !== flag.version) return null;
      const own = await tx.restriction.findFirst({
        where: { flagId: flag.id, status: { in: ['ACTIVE', 'PENDING_APPROVAL'] } },
        orderBy: [{ level: 'desc' }, { createdAt: 'desc' }],
      });
      const active = await tx.restriction.findMany({
        // One past its end is no longer in force, only not yet marked expired: a flag does not join it.
        where: {
          accountId: flag.accountId,
          scope: 'ACCOUNT',
          scopeValue: null,
          status: 'ACTIVE',
          expiresAt: { gt: now },
        },
        orderBy: { createdAt: 'desc' },
      });
      // A warning and a restriction may both be in force (a warning never ends a restriction): the restriction counts.
      const inForce = active.find((r) => r.mode !== 'NOTIFY') ?? active[0] ?? null;
      const { decision, restriction } = await input.decide(tx, inForce);
      const approval = input.approved ? 'auto' : decision.approval;
      const weighed = weighFlag(inForce && toInForce(inForce), { ...decision, approval }, now);
      const pending = own?.status === 'PENDING_APPROVAL' ? own : null;

      if (weighed.action === 'apply' || !inForce) {
        if (pending && !isEscalation(pending, decision)) {
          return { outcome: 'unchanged' as const, restriction: pending, notifications: [] };
        }
        if (!pending && approval !== 'auto') {
          // Another flag's proposal already waits for ops: the same incident, so this flag joins it (raising it if it
          // warrants more) and ops approves or dismisses one proposal, not one per flag.
          const proposal = await tx.restriction.findFirst({
            where: {
              accountId: flag.accountId,
              scope: 'ACCOUNT',
              scopeValue: null,
              status: 'PENDING_APPROVAL',
              flagId: { not: flag.id },
            },
            orderBy: [{ level: 'desc' }, { createdAt: 'desc' }],
          });
          if (proposal) return this.joinProposal(tx, flag, proposal, decision, restriction, actor, now);
        }
        const status = approval === 'auto' ? 'ACTIVE' : 'PENDING_APPROVAL';
        const written = await this.create(
          tx,
          { ...restriction, status, actor, replacesPendingId: pending?.id ?? null, flag },
          account,
          now,
        );
        // A flag that had joined a restriction since ended (its own flag dismissed) now has its own.
        await tx.flag.updateMany({
          where: { id: flag.id, restrictionId: { not: null } },
          data: { restrictionId: null },
        });
        if (status === 'ACTIVE') await this.absorbProposals(tx, written.restriction, actor);
        return { outcome: status === 'ACTIVE' ? ('applied' as const) : ('proposed' as const), ...written };
      }

      if (pending) {
        await this.change(
          tx,
          pending,
          { status: 'REJECTED' },
          actor,
          'restriction.rejected',
          'flag joined the restriction in force',
        );
      }
      if (weighed.action === 'join') {
        const joined = await this.attach(tx, flag, inForce, actor, `${decision.explanation}: nothing stronger`);
        return {
          outcome: joined ? ('joined' as const) : ('unchanged' as const),
          restriction: inForce,
          notifications: [],
        };
      }
      const escalated = await this.change(
        tx,
        inForce,
        rungFields(restriction, weighed.expiresAt),
        actor,
        'restriction.escalated',
        `flag ${flag.id}: ${restriction.reason}`,
      );
      await this.attach(tx, flag, escalated, actor, `${decision.explanation}: escalated`);
      await this.absorbProposals(tx, escalated, actor);
      const id = await this.notify(tx, account, escalated, 'changed', now, { flag, previous: inForce });
      return { outcome: 'escalated' as const, restriction: escalated, notifications: id ? [id] : [] };
    });
    if (result === null) return summarize('skipped', null, 'none', `flag ${flag.id} changed meanwhile`);
    if (result.outcome === 'applied' || result.outcome === 'proposed') this.countCreated(result.restriction);
    this.metrics
      .counter('usageguard_flag_outcomes_total', 'Flags evaluated by the enforcer, by outcome', ['outcome'])
      .inc({ outcome: result.outcome });
    return this.afterCommit(result.outcome, result.restriction, result.notifications);
  }

  /**
   * A flag that joined (or raised) a restriction or proposal was dismissed: the restriction keeps only what the flags
   * still behind it warrant — its own flag and the flags that joined it, unless dismissed, each weighed by the ladder
   * now (the restriction itself not counted as an earlier offence). When the strongest of them warrants a lower rung
   * than the restriction holds, it is lowered in place: that rung's mode, factor, status and reason, an end no later
   * than before (the rung's duration from the restriction's start, but at least a minute from now), a fresh version,
   * and for one in force a "changed" email. With no flag left behind it (a manual restriction), it stays as it is.
   */
  async reweigh(
    restrictionId: string,
    actor: OpsActor,
    reason: string,
    decide: (tx: Tx, flag: Flag, inForce: Restriction) => Promise<FlagDecision>,
  ): Promise<RestrictionSummary> {
    const now = new Date();
    const result = await this.transaction(async (tx) => {
      const current = await tx.restriction.findUnique({ where: { id: restrictionId } });
      if (!current) return null;
      await this.lockAccount(tx, current.accountId);
      const locked = await tx.restriction.findUniqueOrThrow({ where: { id: restrictionId } });
      const unchanged = { outcome: 'unchanged' as const, restriction: locked, notifications: [] as string[] };
      if (locked.status !== 'ACTIVE' && locked.status !== 'PENDING_APPROVAL') return unchanged;
      const backers = await tx.flag.findMany({
        where: {
          OR: [...(locked.flagId ? [{ id: locked.flagId }] : []), { restrictionId: locked.id }],
          status: { not: 'DISMISSED' },
        },
        orderBy: { createdAt: 'asc' },
      });
      let strongest: FlagDecision | null = null;
      for (const backer of backers) {
        const weighed = await decide(tx, backer, locked);
        if (!strongest || weighed.decision.level > strongest.decision.level) strongest = weighed;
      }
      if (!strongest || strongest.decision.level >= locked.level) return unchanged;
      const { restriction } = strongest;
      const rungEnd = locked.startsAt.getTime() + restriction.durationSeconds * 1000;
      const expiresAt = new Date(Math.min(locked.expiresAt.getTime(), Math.max(rungEnd, now.getTime() + 60_000)));
      const lowered = await this.change(
        tx,
        locked,
        rungFields(restriction, expiresAt),
        actor,
        'restriction.lowered',
        reason,
      );
      if (lowered.status !== 'ACTIVE') return { outcome: 'lowered' as const, restriction: lowered, notifications: [] };
      const account = await this.emailAccount(tx, lowered.accountId);
      const id = await this.notify(tx, account, lowered, 'changed', now, { previous: locked });
      return { outcome: 'lowered' as const, restriction: lowered, notifications: id ? [id] : [] };
    });
    if (result === null) return summarize('skipped', null, 'none', `restriction ${restrictionId} not found`);
    return this.afterCommit(result.outcome, result.restriction, result.notifications);
  }

  /** Ops approved a proposal: it starts now and lasts as long as it was proposed to. */
  async approve(restrictionId: string, actor: OpsActor, reason: string): Promise<RestrictionSummary> {
    const now = new Date();
    const result = await this.transaction(async (tx) => {
      const current = await this.loadLocked(tx, restrictionId);
      if (current.status !== 'PENDING_APPROVAL') return { restriction: current, notifications: [], changed: false };
      const account = await this.emailAccount(tx, current.accountId);
      const replaced = await this.supersede(tx, current, actor, current.id);
      const duration = current.expiresAt.getTime() - current.startsAt.getTime();
      const updated = await this.change(
        tx,
        current,
        { status: 'ACTIVE', startsAt: now, expiresAt: new Date(now.getTime() + duration) },
        actor,
        'restriction.approved',
        reason,
      );
      if (updated.scope === 'ACCOUNT') await this.absorbProposals(tx, updated, actor);
      const id = await this.notify(tx, account, updated, replaced ? 'changed' : 'applied', now, {
        previous: replaced,
      });
      return { restriction: updated, notifications: id ? [id] : [], changed: true };
    });
    if (!result.changed) return this.afterCommit('unchanged', result.restriction, []);
    return this.afterCommit('approved', result.restriction, result.notifications);
  }

  async extend(restrictionId: string, expiresAt: Date, actor: OpsActor, reason: string): Promise<RestrictionSummary> {
    const now = new Date();
    if (!(expiresAt.getTime() > now.getTime()))
      throw new ConflictError('expiry_in_past', 'expiresAt must be in the future');
    const result = await this.transaction(async (tx) => {
      const current = await this.loadLocked(tx, restrictionId);
      if (current.status !== 'ACTIVE') {
        throw new ConflictError('restriction_not_active', `restriction ${restrictionId} is ${current.status}`);
      }
      const account = await this.emailAccount(tx, current.accountId);
      const updated = await this.change(tx, current, { expiresAt }, actor, 'restriction.extended', reason);
      const id = await this.notify(tx, account, updated, 'extended', now);
      return { restriction: updated, notifications: id ? [id] : [] };
    });
    return this.afterCommit('extended', result.restriction, result.notifications);
  }

  /**
   * Ends a restriction: `lifted` by ops (a proposal is rejected instead), or `expired` by its delayed job — which is
   * a no-op unless the restriction is still active at exactly the version the job was scheduled for.
   */
  async end(
    restrictionId: string,
    how: 'lifted' | 'expired',
    actor: OpsActor,
    reason: string,
    expectedVersion?: number,
  ): Promise<RestrictionSummary> {
    const now = new Date();
    const result = await this.transaction(async (tx) => {
      const current = await tx.restriction.findUnique({ where: { id: restrictionId } });
      if (!current) {
        if (how === 'expired') return null;
        throw new NotFoundError('restriction', restrictionId);
      }
      await this.lockAccount(tx, current.accountId);
      const account = await this.emailAccount(tx, current.accountId);
      const locked = await tx.restriction.findUniqueOrThrow({ where: { id: restrictionId } });
      if (how === 'expired' && (locked.status !== 'ACTIVE' || locked.version !== expectedVersion)) {
        return { restriction: locked, notifications: [], outcome: 'unchanged' as const };
      }
      if (how === 'expired' && locked.expiresAt.getTime() > now.getTime() + 1000) {
        throw new Error(`restriction ${restrictionId} is not due until ${locked.expiresAt.toISOString()}`);
      }
      if (locked.status === 'PENDING_APPROVAL' && how === 'lifted') {
        const rejected = await this.change(tx, locked, { status: 'REJECTED' }, actor, 'restriction.rejected', reason);
        return { restriction: rejected, notifications: [], outcome: 'rejected' as const };
      }
      if (locked.status !== 'ACTIVE') return { restriction: locked, notifications: [], outcome: 'unchanged' as const };
      const ended = await this.change(
        tx,
        locked,
        how === 'expired'
          ? { status: 'EXPIRED' }
          : { status: 'LIFTED', liftedAt: now, liftedBy: actor.id ?? actor.type.toLowerCase() },
        actor,
        how === 'expired' ? 'restriction.expired' : 'restriction.lifted',
        reason,
      );
      const id = await this.notify(tx, account, ended, how, now);
      return { restriction: ended, notifications: id ? [id] : [], outcome: how };
    });
    if (result === null) return summarize('skipped', null, 'none', 'restriction no longer exists');
    return this.afterCommit(result.outcome, result.restriction, result.notifications);
  }

  /**
   * Writes the edge's copy of one restriction as Postgres has it, and makes sure its expiry job and pending emails
   * are queued. Idempotent: used after every change, by retries, and by reconcile.
   */
  async sync(restriction: Restriction): Promise<RestrictionSummary['edge']> {
    let edge: RestrictionSummary['edge'] = 'none';
    // A proposal, pending or rejected, never reached the edge; its version may be above the restriction in force on
    // the same key, so a removal in its name would take that one away (and keep reconcile from writing it back).
    const proposal = restriction.status === 'PENDING_APPROVAL' || restriction.status === 'REJECTED';
    try {
      if (isEdgeRestriction(restriction) && !proposal) {
        const outcome =
          restriction.status === 'ACTIVE'
            ? await this.store.put(toRecord(restriction))
            : await this.store.remove(
                restriction.accountId,
                scopeName(restriction),
                restriction.scope === 'ACCOUNT' ? null : restriction.scopeValue,
                restriction.version,
              );
        edge = outcome === 'written' ? (restriction.status === 'ACTIVE' ? 'written' : 'removed') : outcome;
      }
      if (restriction.status === 'ACTIVE') await this.scheduleExpiry(restriction);
    } catch (error) {
      // Postgres has committed the change; the periodic reconcile writes what this could not.
      this.logger.warn(`restriction ${restriction.id}: edge copy deferred to reconcile: ${(error as Error).message}`);
      edge = 'deferred';
    }
    return edge;
  }

  async scheduleExpiry(restriction: Restriction): Promise<void> {
    await this.queue.enqueue(
      'enforcer',
      'expire-restriction',
      { restrictionId: restriction.id, version: restriction.version },
      {
        jobId: `expire-${restriction.id}-v${restriction.version}`,
        delayMs: Math.max(0, restriction.expiresAt.getTime() - Date.now()),
      },
    );
  }

  async enqueueNotification(notificationId: string): Promise<void> {
    await this.queue.enqueue(
      'mail',
      'send-notification',
      { notificationId },
      { jobId: `notify-${notificationId}`, attempts: 15 },
    );
  }

  /** The plan's ladder, validated; a plan the dashboard saved is always valid, so a bad one is a permanent error. */
  static configOf(plan: { key: string; enforcementConfig: unknown }): EnforcementConfig {
    const parsed = parseEnforcementConfig(plan.enforcementConfig);
    if (!parsed.ok) throw new ConflictError('invalid_enforcement_config', `plan ${plan.key}: ${parsed.reason}`);
    return parsed.config;
  }

  private async afterCommit(
    outcome: RestrictionSummary['outcome'],
    restriction: Restriction,
    notifications: string[],
  ): Promise<RestrictionSummary> {
    const [edge] = await Promise.all([
      this.sync(restriction),
      ...notifications.map((id) =>
        this.enqueueNotification(id).catch((error: Error) =>
          this.logger.warn(`notification ${id}: enqueue deferred to reconcile: ${error.message}`),
        ),
      ),
    ]);
    return summarize(outcome, restriction, edge);
  }

  /** Counted once committed: a transaction that rolls back wrote nothing. */
  private countCreated(restriction: Restriction): void {
    this.metrics
      .counter('usageguard_restrictions_total', 'Restrictions written by the enforcer', ['status', 'mode'])
      .inc({ status: restriction.status, mode: restriction.mode });
  }

  /** Writes a new restriction (or proposal) under the caller's account lock, with its audit event and email. */
  private async create(tx: Tx, input: NewRestriction, account: EmailAccount, now: Date): Promise<Written> {
    if (input.replacesPendingId) {
      const pending = await tx.restriction.findUnique({ where: { id: input.replacesPendingId } });
      if (pending?.status === 'PENDING_APPROVAL') {
        await this.change(
          tx,
          pending,
          { status: 'REJECTED' },
          input.actor,
          'restriction.rejected',
          'replaced by a higher rung',
        );
      }
    }
    const replaced = input.status === 'ACTIVE' ? await this.supersede(tx, input, input.actor) : null;
    const version = await this.nextVersion(tx, input.accountId, input.scope, input.scopeValue);
    const created = await tx.restriction.create({
      data: {
        accountId: input.accountId,
        flagId: input.flagId,
        scope: input.scope,
        scopeValue: input.scope === 'ACCOUNT' ? null : input.scopeValue,
        mode: input.mode,
        throttleFactor: input.mode === 'THROTTLE' ? input.throttleFactor : null,
        statusCode: input.statusCode,
        reasonCode: input.reasonCode,
        reason: input.reason.slice(0, 500),
        level: input.level,
        status: input.status,
        startsAt: now,
        expiresAt: new Date(now.getTime() + input.durationSeconds * 1000),
        createdByType: input.actor.type,
        createdBy: input.actor.id,
        version,
      },
    });
    await writeAudit(tx, {
      actor: input.actor,
      action: input.status === 'ACTIVE' ? 'restriction.applied' : 'restriction.proposed',
      targetType: 'restriction',
      targetId: created.id,
      accountId: input.accountId,
      before: null,
      after: created,
      reason: input.reason,
    });
    if (created.status !== 'ACTIVE') return { restriction: created, notifications: [] };
    // Replacing a restriction at the edge is a change for the customer, not a second restriction.
    const change = replaced && created.mode !== 'NOTIFY' ? 'changed' : 'applied';
    const id = await this.notify(tx, account, created, change, now, { flag: input.flag, previous: replaced });
    return { restriction: created, notifications: id ? [id] : [] };
  }

  /**
   * A restriction comes into force (applied automatically, escalated, or approved) while other flags of the incident
   * still wait as proposals: each account-wide proposal it covers (no higher rung) is rejected and its flags join it,
   * so ops are not left to approve a second restriction for the same incident. A stronger proposal stays for ops;
   * approving it replaces this one.
   */
  private async absorbProposals(tx: Tx, restriction: Restriction, actor: OpsActor): Promise<void> {
    const proposals = await tx.restriction.findMany({
      where: {
        accountId: restriction.accountId,
        scope: 'ACCOUNT',
        scopeValue: null,
        status: 'PENDING_APPROVAL',
        id: { not: restriction.id },
        level: { lte: restriction.level },
      },
    });
    for (const proposal of proposals) {
      const why = `covered by restriction ${restriction.id}, in force`;
      await this.change(tx, proposal, { status: 'REJECTED' }, actor, 'restriction.rejected', why);
      const flags = await tx.flag.findMany({
        where: {
          OR: [...(proposal.flagId ? [{ id: proposal.flagId }] : []), { restrictionId: proposal.id }],
          status: 'OPEN',
        },
      });
      for (const backer of flags) await this.attach(tx, backer, restriction, actor, `its proposal was ${why}`);
    }
  }

  /**
   * A flag joins another flag's proposal that waits for ops: linked to it if it warrants no more, else the proposal
   * is raised in place to this flag's rung (and its duration, if longer). Nothing reaches the edge or the customer:
   * that happens once ops approves the proposal (through any of its flags).
   */
  private async joinProposal(
    tx: Tx,
    flag: Flag,
    proposal: Restriction,
    decision: LadderDecision,
    restriction: FlagDecision['restriction'],
    actor: OpsActor,
    now: Date,
  ) {
    if (!isEscalation(proposal, decision)) {
      const joined = await this.attach(tx, flag, proposal, actor, `${decision.explanation}: joins the proposal`);
      return {
        outcome: joined ? ('joined' as const) : ('unchanged' as const),
        restriction: proposal,
        notifications: [] as string[],
      };
    }
    const proposedMs = proposal.expiresAt.getTime() - proposal.startsAt.getTime();
    const raised = await this.change(
      tx,
      proposal,
      {
        ...rungFields(restriction, new Date(now.getTime() + Math.max(proposedMs, restriction.durationSeconds * 1000))),
        startsAt: now,
      },
      actor,
      'restriction.escalated',
      `flag ${flag.id}, while awaiting approval: ${restriction.reason}`,
    );
    await this.attach(tx, flag, raised, actor, `${decision.explanation}: raised the proposal`);
    return { outcome: 'escalated' as const, restriction: raised, notifications: [] as string[] };
  }

  /**
   * Records a flag against a restriction it did not create (its own needs no record): the flag row points at it and
   * the audit log says so. Returns false when there was nothing to record (a retry, or the restriction's own flag).
   */
  private async attach(
    tx: Tx,
    flag: Flag,
    restriction: Restriction,
    actor: OpsActor,
    reason: string,
  ): Promise<boolean> {
    if (restriction.flagId === flag.id) return false;
    const current = await tx.flag.findUniqueOrThrow({ where: { id: flag.id }, select: { restrictionId: true } });
    if (current.restrictionId === restriction.id) return false;
    await tx.flag.update({ where: { id: flag.id }, data: { restrictionId: restriction.id } });
    await writeAudit(tx, {
      actor,
      action: 'flag.attached',
      targetType: 'flag',
      targetId: flag.id,
      accountId: flag.accountId,
      before: { restrictionId: current.restrictionId },
      after: {
        restrictionId: restriction.id,
        mode: restriction.mode,
        level: restriction.level,
        version: restriction.version,
      },
      reason,
    });
    return true;
  }

  /** Under load a job may wait for a pooled connection; Prisma's 2 s default would fail it for nothing. */
  private transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(work, { maxWait: 10_000, timeout: 20_000 });
  }

  /** Serializes every change of one account's restrictions (and so their versions). */
  private async lockAccount(tx: Tx, accountId: string): Promise<void> {
    const locked = await tx.$queryRaw<
      { id: string }[]
    >`SELECT id FROM accounts WHERE id = ${accountId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw new NotFoundError('account', accountId);
  }

  /** The account as its emails need it: name, notification contacts, the plan's support addresses. */
  async emailAccount(client: Tx, accountId: string): Promise<EmailAccount> {
    const account = await client.account.findUnique({
      where: { id: accountId },
      select: {
        id: true,
        name: true,
        contacts: { select: { email: true } },
        plan: { select: { enforcementConfig: true } },
      },
    });
    if (!account) throw new NotFoundError('account', accountId);
    return account;
  }

  private async loadLocked(tx: Tx, restrictionId: string): Promise<Restriction> {
    const found = await tx.restriction.findUnique({ where: { id: restrictionId } });
    if (!found) throw new NotFoundError('restriction', restrictionId);
    await this.lockAccount(tx, found.accountId);
    return tx.restriction.findUniqueOrThrow({ where: { id: restrictionId } });
  }

  /**
   * The next version at a Redis key: one more than any restriction of that account, scope and value ever had, so a
   * new restriction on a key outranks the lifted one an edge may still hold.
   */
  private async nextVersion(tx: Tx, accountId: string, scope: RestrictionScope, scopeValue: string | null) {
    const rows = await tx.$queryRaw<{ v: number }[]>`
      SELECT COALESCE(MAX(version), 0)::int + 1 AS v FROM restrictions
      WHERE account_id = ${accountId}::uuid AND scope = ${scope}::"RestrictionScope"
        AND scope_value IS NOT DISTINCT FROM ${scope === 'ACCOUNT' ? null : scopeValue}`;
    return rows[0].v;
  }

  /**
   * One active restriction per key: a new one ends the one in force (no lifted email: the new one's email follows).
   * Returns the restriction at the edge it replaced, if any, so that email says "changed" rather than "restricted".
   */
  private async supersede(
    tx: Tx,
    key: { accountId: string; scope: RestrictionScope; scopeValue: string | null; mode: RestrictionMode },
    actor: OpsActor,
    exceptId?: string,
  ): Promise<Restriction | null> {
    const active = await tx.restriction.findMany({
      where: {
        accountId: key.accountId,
        scope: key.scope,
        scopeValue: key.scope === 'ACCOUNT' ? null : key.scopeValue,
        status: 'ACTIVE',
        // A warning never ends a restriction in force; a restriction ends a warning.
        ...(key.mode === 'NOTIFY' ? { mode: 'NOTIFY' as const } : {}),
        ...(exceptId ? { id: { not: exceptId } } : {}),
      },
    });
    for (const restriction of active) {
      await this.change(
        tx,
        restriction,
        { status: 'LIFTED', liftedAt: new Date(), liftedBy: 'superseded' },
        actor,
        'restriction.superseded',
        'replaced by a new restriction on the same scope',
      );
    }
    return active.find((r) => r.mode !== 'NOTIFY' && r.expiresAt.getTime() > Date.now()) ?? null;
  }

  /** Updates a restriction with a fresh version and writes its audit event. */
  private async change(
    tx: Tx,
    before: Restriction,
    data: Prisma.RestrictionUpdateInput,
    actor: OpsActor,
    action: string,
    reason: string,
  ): Promise<Restriction> {
    const version = await this.nextVersion(tx, before.accountId, before.scope, before.scopeValue);
    const after = await tx.restriction.update({ where: { id: before.id }, data: { ...data, version } });
    await writeAudit(tx, {
      actor,
      action,
      targetType: 'restriction',
      targetId: before.id,
      accountId: before.accountId,
      before,
      after,
      reason,
    });
    return after;
  }

  private async notify(
    tx: Tx,
    account: EmailAccount,
    restriction: Restriction,
    change: NotificationChange,
    at: Date,
    /** flag: whose evidence the email shows (default: the restriction's own flag); previous: for `changed`. */
    options: { flag?: Flag | null; previous?: Restriction | null } = {},
  ): Promise<string | null> {
    const flag: Flag | null =
      options.flag ?? (restriction.flagId ? await tx.flag.findUnique({ where: { id: restriction.flagId } }) : null);
    const parsed = parseEnforcementConfig(account.plan.enforcementConfig);
    return writeNotification(tx, {
      account,
      restriction,
      change,
      flag,
      previous: options.previous,
      config: parsed.ok ? parsed.config : null,
      at,
    });
  }
}
