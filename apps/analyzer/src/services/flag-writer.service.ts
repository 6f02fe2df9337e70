import { Inject, Injectable, Logger } from '@nestjs/common';
import { type FlagKind, Prisma, PrismaRepository } from '@usageguard/database';
import { type FlagAction } from '@usageguard/domain';
import { QUEUES } from '@usageguard/contracts';
import { QueueRepository } from '@usageguard/queue';

/** A retried shard job re-enqueues the evaluation of a state this recent (same job id, so never twice). */
const REENQUEUE_WINDOW_MS = 15 * 60_000;

export const evaluateFlagJobId = (flagId: string, version: number): string => `flag-${flagId}-v${version}`;

export type Evidence = Record<string, unknown>;

/**
 * Turns flag actions into Postgres rows and enforcer jobs. One open flag per account and kind is the database's
 * job (unique open_key), so two workers racing on the same account cannot open two. A new or escalated flag
 * enqueues evaluate-flag with jobId flag-<id>-v<version>. The version moves only on escalation: a plain evidence
 * update must not make the enforcer's pending job look stale.
 */
@Injectable()
export class FlagWriterService {
  private readonly logger = new Logger(FlagWriterService.name);

  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(QueueRepository) private readonly queue: QueueRepository,
  ) {}

  async apply(accountId: string, kind: FlagKind, action: FlagAction, evidence: Evidence, at: Date): Promise<void> {
    switch (action.action) {
      case 'none':
        return;
      case 'open':
        return this.open(
          accountId,
          kind,
          action.finding.severity,
          action.finding.score,
          action.finding.summary,
          {
            ...evidence,
            stateSince: at.toISOString(),
          },
          at,
        );
      case 'escalate': {
        const flag = await this.prisma.$transaction(async (tx) => {
          const updated = await tx.flag.updateMany({
            where: { id: action.flagId, status: 'OPEN' },
            data: {
              severity: action.finding.severity,
              score: action.finding.score,
              summary: action.finding.summary,
              evidence: json({ ...evidence, stateSince: at.toISOString() }),
              lastSeenAt: at,
              version: { increment: 1 },
            },
          });
          if (updated.count === 0) return null;
          const row = await tx.flag.findUniqueOrThrow({ where: { id: action.flagId } });
          await tx.auditEvent.create({
            data: audit('flag.escalated', row.id, accountId, { severity: row.severity, version: row.version }),
          });
          return row;
        });
        if (flag) await this.enqueue(flag.id, flag.version);
        return;
      }
      case 'update': {
        const current = await this.prisma.flag.findUnique({ where: { id: action.flagId } });
        if (!current || current.status !== 'OPEN') return;
        const previous = (current.evidence ?? {}) as Evidence;
        await this.prisma.flag.updateMany({
          where: { id: action.flagId, status: 'OPEN' },
          data: {
            score: action.finding.score,
            summary: action.finding.summary,
            // Top lists and the state's start come from the cycle that opened or escalated the flag.
            evidence: json({ ...evidence, top: previous.top ?? evidence.top, stateSince: previous.stateSince }),
            lastSeenAt: at,
          },
        });
        const since = typeof previous.stateSince === 'string' ? Date.parse(previous.stateSince) : 0;
        if (at.getTime() - since < REENQUEUE_WINDOW_MS) await this.enqueue(current.id, current.version);
        return;
      }
      case 'resolve':
        await this.prisma.$transaction(async (tx) => {
          const updated = await tx.flag.updateMany({
            where: { id: action.flagId, status: 'OPEN' },
            data: { status: 'RESOLVED', openKey: null, resolvedAt: at },
          });
          if (updated.count > 0) {
            await tx.auditEvent.create({
              data: audit('flag.resolved', action.flagId, accountId, { status: 'RESOLVED' }),
            });
          }
        });
        return;
    }
  }

  private async open(
    accountId: string,
    kind: FlagKind,
    severity: Prisma.FlagCreateInput['severity'],
    score: number,
    summary: string,
    evidence: Evidence,
    at: Date,
  ): Promise<void> {
    let flagId: string;
    try {
      flagId = await this.prisma.$transaction(async (tx) => {
        const flag = await tx.flag.create({
          data: {
            accountId,
            kind,
            severity,
            score,
            summary,
            evidence: json(evidence),
            openKey: `${accountId}:${kind}`,
            firstSeenAt: at,
            lastSeenAt: at,
          },
        });
        await tx.auditEvent.create({ data: audit('flag.opened', flag.id, accountId, { kind, severity }) });
        return flag.id;
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        // Another worker (or an earlier attempt of this job) opened it: its own enqueue covers the enforcer.
        this.logger.debug(`flag ${accountId}:${kind} already open`);
        return;
      }
      throw error;
    }
    await this.enqueue(flagId, 1);
  }

  private async enqueue(flagId: string, version: number): Promise<void> {
    await this.queue.enqueue(
      QUEUES.enforcer,
      'evaluate-flag',
      { flagId, flagVersion: version },
      { jobId: evaluateFlagJobId(flagId, version) },
    );
  }
}

function json(value: Evidence): Prisma.InputJsonValue {
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
}

function audit(action: string, flagId: string, accountId: string, after: Evidence): Prisma.AuditEventCreateInput {
  return {
    actorType: 'SYSTEM',
    actorId: 'analyzer',
    action,
    targetType: 'flag',
    targetId: flagId,
    accountId,
    after: json(after),
  };
}
