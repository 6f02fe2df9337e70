import { type OpsActor } from '@usageguard/contracts';
import { type Prisma } from '@usageguard/database';

export interface AuditEntry {
  actor: OpsActor;
  /** `restriction.applied`, `flag.dismissed`, `notification.unconfirmed`, … */
  action: string;
  targetType: 'restriction' | 'flag' | 'notification';
  targetId: string;
  accountId: string | null;
  before: unknown;
  after: unknown;
  reason: string;
}

/** The enforcer's automatic actor in the audit log. */
export const SYSTEM_ACTOR: OpsActor = { type: 'SYSTEM', id: 'enforcer', requestId: null };

/** Writes one audit event inside the caller's transaction: the change and its record commit together. */
export async function writeAudit(tx: Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
  await tx.auditEvent.create({
    data: {
      actorType: entry.actor.type,
      actorId: entry.actor.id,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      accountId: entry.accountId,
      before: toJson(entry.before),
      after: toJson(entry.after),
      reason: entry.reason.slice(0, 2000),
      requestId: entry.actor.requestId,
    },
  });
}

function toJson(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === null || value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
}
