import { Inject, Injectable } from '@nestjs/common';
import { type Prisma, PrismaRepository } from '@usageguard/database';
import { type OpsPrincipal } from '../auth/auth.types';
import { type AuditQuery } from '../dtos/audit.dto';

export interface AuditEntry {
  actor: OpsPrincipal | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  accountId?: string | null;
  before?: unknown;
  after?: unknown;
  reason?: string;
  requestId?: string | null;
}

const json = (value: unknown): Prisma.InputJsonValue | undefined =>
  value === undefined || value === null ? undefined : (JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue);

/** Writes the audit trail of everything people do in the dashboard (sign-ins included). */
@Injectable()
export class AuditService {
  constructor(@Inject(PrismaRepository) private readonly prisma: PrismaRepository) {}

  async record(entry: AuditEntry, tx: Prisma.TransactionClient = this.prisma): Promise<void> {
    await tx.auditEvent.create({
      data: {
        actorType: 'OPS_USER',
        actorId: entry.actor?.userId ?? null,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId ?? null,
        accountId: entry.accountId ?? null,
        before: json(entry.before),
        after: json(entry.after),
        reason: entry.reason ?? '',
        requestId: entry.requestId ?? null,
      },
    });
  }

  /** Newest first, filtered; `before` is the id cursor of the next page. */
  async list(query: AuditQuery) {
    const limit = query.limit ?? 50;
    const action = query.action?.endsWith('*')
      ? { startsWith: query.action.slice(0, -1) }
      : query.action
        ? { equals: query.action }
        : undefined;
    const events = await this.prisma.auditEvent.findMany({
      where: {
        ...(action ? { action } : {}),
        ...(query.actorId ? { actorId: query.actorId } : {}),
        ...(query.accountId ? { accountId: query.accountId } : {}),
        ...(query.targetType ? { targetType: query.targetType } : {}),
        ...(query.targetId ? { targetId: query.targetId } : {}),
        ...(query.from || query.to
          ? {
              at: {
                ...(query.from ? { gte: new Date(query.from) } : {}),
                ...(query.to ? { lt: new Date(query.to) } : {}),
              },
            }
          : {}),
        ...(query.before ? { id: { lt: BigInt(query.before) } } : {}),
      },
      orderBy: { id: 'desc' },
      take: limit + 1,
    });
    const actorIds = [...new Set(events.map((e) => e.actorId).filter((id): id is string => id !== null))];
    const actors = await this.prisma.opsUser.findMany({
      where: { id: { in: actorIds.filter((id) => /^[0-9a-f-]{36}$/i.test(id)) } },
      select: { id: true, email: true },
    });
    const emails = new Map(actors.map((a) => [a.id, a.email]));
    const page = events.slice(0, limit);
    return {
      events: page.map((e) => ({
        ...e,
        id: e.id.toString(),
        actorEmail: e.actorId ? (emails.get(e.actorId) ?? null) : null,
      })),
      next: events.length > limit ? page[page.length - 1].id.toString() : null,
    };
  }
}
