import { Inject, Injectable } from '@nestjs/common';
import { type Prisma, PrismaRepository } from '@usageguard/database';
import { NotFoundError } from '@usageguard/observability';
import { type FlagListQuery } from '../dtos/flags.dto';

const SEVERITY_RANK = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 } as const;

/** Postgres reads behind the flagged-accounts list and the account page. */
@Injectable()
export class AccountsService {
  constructor(@Inject(PrismaRepository) private readonly prisma: PrismaRepository) {}

  async listFlags(query: FlagListQuery) {
    const where: Prisma.FlagWhereInput = {
      status: query.status ?? 'OPEN',
      ...(query.severity?.length ? { severity: { in: query.severity } } : {}),
      ...(query.kind?.length ? { kind: { in: query.kind } } : {}),
      ...(query.olderThanHours
        ? { firstSeenAt: { lte: new Date(Date.now() - query.olderThanHours * 3_600_000) } }
        : {}),
      ...(query.plan || query.search
        ? {
            account: {
              ...(query.plan ? { plan: { key: query.plan } } : {}),
              ...(query.search
                ? {
                    OR: [
                      { name: { contains: query.search, mode: 'insensitive' as const } },
                      { externalId: { contains: query.search, mode: 'insensitive' as const } },
                    ],
                  }
                : {}),
            },
          }
        : {}),
    };
    const order = query.order ?? 'desc';
    const flip = order === 'desc' ? 'asc' : 'desc';
    // "Age" reads as oldest first when descending: the longest-waiting flag is the oldest one.
    const orderBy: Prisma.FlagOrderByWithRelationInput[] = {
      severity: [{ severity: order }, { score: 'desc' }, { firstSeenAt: 'asc' }],
      age: [{ firstSeenAt: flip }],
      score: [{ score: order }, { firstSeenAt: 'asc' }],
      lastSeen: [{ lastSeenAt: order }],
    }[query.sort ?? 'severity'] as Prisma.FlagOrderByWithRelationInput[];
    const [total, flags] = await Promise.all([
      this.prisma.flag.count({ where }),
      this.prisma.flag.findMany({
        where,
        orderBy: [...orderBy, { id: 'asc' }],
        take: query.limit ?? 50,
        skip: query.offset ?? 0,
        include: {
          account: {
            select: {
              id: true,
              name: true,
              externalId: true,
              allowlisted: true,
              plan: { select: { key: true, name: true } },
              restrictions: { where: { status: 'ACTIVE' }, select: { id: true, mode: true, expiresAt: true } },
            },
          },
        },
      }),
    ]);
    return {
      total,
      flags: flags.map(({ evidence: _evidence, ...flag }) => flag),
    };
  }

  /** Counts of open flags by severity, kind and plan, for the chips above the list. */
  async openFlagCounts() {
    const [bySeverity, byKind, byPlan] = await Promise.all([
      this.prisma.flag.groupBy({ by: ['severity'], where: { status: 'OPEN' }, _count: { _all: true } }),
      this.prisma.flag.groupBy({ by: ['kind'], where: { status: 'OPEN' }, _count: { _all: true } }),
      this.prisma.$queryRaw<{ key: string; name: string; count: bigint }[]>`
        SELECT p.key, p.name, count(*) AS count
          FROM flags f JOIN accounts a ON a.id = f.account_id JOIN plans p ON p.id = a.plan_id
         WHERE f.status = 'OPEN' GROUP BY p.key, p.name ORDER BY count DESC`,
    ]);
    const severity = Object.fromEntries(bySeverity.map((r) => [r.severity, r._count._all]));
    return {
      total: bySeverity.reduce((s, r) => s + r._count._all, 0),
      severity: Object.fromEntries(Object.keys(SEVERITY_RANK).map((k) => [k, severity[k] ?? 0])),
      kind: Object.fromEntries(byKind.map((r) => [r.kind, r._count._all])),
      plan: byPlan.map((r) => ({ key: r.key, name: r.name, count: Number(r.count) })),
    };
  }

  async search(text: string) {
    return this.prisma.account.findMany({
      where: text
        ? {
            OR: [
              { name: { contains: text, mode: 'insensitive' } },
              { externalId: { contains: text, mode: 'insensitive' } },
            ],
          }
        : {},
      orderBy: { name: 'asc' },
      take: 20,
      select: { id: true, name: true, externalId: true, status: true, plan: { select: { key: true, name: true } } },
    });
  }

  /** The account page: the relations are read concurrently (one round trip each, in parallel on the pool). */
  async detail(accountId: string) {
    const last = { orderBy: { createdAt: 'desc' as const }, take: 50, where: { accountId } };
    const [account, contacts, tokens, flags, restrictions, notifications, burstNotices] = await Promise.all([
      this.prisma.account.findUnique({
        where: { id: accountId },
        include: {
          plan: { select: { id: true, key: true, name: true, priorPerMinute: true, limitStatusCode: true } },
        },
      }),
      this.prisma.notificationContact.findMany({ where: { accountId }, select: { email: true, name: true } }),
      this.prisma.apiToken.findMany({
        where: { accountId },
        select: { id: true, name: true, prefix: true, createdAt: true, revokedAt: true, lastUsedAt: true },
        orderBy: { createdAt: 'asc' },
      }),
      this.prisma.flag.findMany(last),
      this.prisma.restriction.findMany(last),
      this.prisma.notification.findMany({
        ...last,
        select: {
          id: true,
          kind: true,
          subject: true,
          recipients: true,
          status: true,
          attempts: true,
          lastError: true,
          createdAt: true,
          sentAt: true,
          restrictionId: true,
        },
      }),
      this.prisma.burstNotice.findMany({ where: { accountId }, orderBy: { startsAt: 'desc' }, take: 50 }),
    ]);
    if (!account) throw new NotFoundError('account', accountId);
    return { ...account, contacts, tokens, flags, restrictions, notifications, burstNotices };
  }

  /** Account ids must exist before ClickHouse is asked about them (a 404 beats an empty chart for a typo). */
  async assertExists(accountId: string): Promise<void> {
    const found = await this.prisma.account.findUnique({ where: { id: accountId }, select: { id: true } });
    if (!found) throw new NotFoundError('account', accountId);
  }

  async tokenNames(accountId: string): Promise<Map<string, string>> {
    const tokens = await this.prisma.apiToken.findMany({
      where: { accountId },
      select: { id: true, name: true, prefix: true },
    });
    return new Map(tokens.map((t) => [t.id, `${t.name} (${t.prefix}…)`]));
  }

  async overviewCounts() {
    const [openFlags, activeRestrictions, awaitingApproval, pendingBursts, heldEmails] = await Promise.all([
      this.prisma.flag.count({ where: { status: 'OPEN' } }),
      this.prisma.restriction.count({ where: { status: 'ACTIVE' } }),
      this.prisma.restriction.count({ where: { status: 'PENDING_APPROVAL' } }),
      this.prisma.burstNotice.count({ where: { status: 'PENDING' } }),
      // Held for ops (unconfirmed, refused, or without recipients): each waits for someone to check and resend it.
      this.prisma.notification.count({ where: { status: 'FAILED' } }),
    ]);
    return { openFlags, activeRestrictions, awaitingApproval, pendingBursts, heldEmails };
  }
}
