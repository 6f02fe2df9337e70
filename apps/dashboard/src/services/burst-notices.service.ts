import { Inject, Injectable } from '@nestjs/common';
import { PrismaRepository } from '@usageguard/database';
import { ConflictError, NotFoundError } from '@usageguard/observability';
import { type OpsPrincipal } from '../auth/auth.types';
import { type RequestContext } from '../auth/request-context';
import { type BurstNoticeListQuery, type ReviewBurstNoticeDto } from '../dtos/burst-notices.dto';
import { AuditService } from './audit.service';

/** Burst notices: listed with the account's history beside them, approved or rejected by ops. */
@Injectable()
export class BurstNoticesService {
  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async list(query: BurstNoticeListQuery) {
    const status = query.status ?? 'PENDING';
    const notices = await this.prisma.burstNotice.findMany({
      where: { status },
      orderBy: status === 'PENDING' ? { startsAt: 'asc' } : { updatedAt: 'desc' },
      take: 200,
      include: {
        account: { select: { id: true, name: true, externalId: true, plan: { select: { key: true, name: true } } } },
      },
    });
    const accountIds = [...new Set(notices.map((n) => n.accountId))];
    const [history, flags, restrictions] = await Promise.all([
      this.prisma.burstNotice.groupBy({
        by: ['accountId', 'status'],
        where: { accountId: { in: accountIds } },
        _count: { _all: true },
      }),
      this.prisma.flag.groupBy({
        by: ['accountId'],
        where: { accountId: { in: accountIds }, createdAt: { gte: new Date(Date.now() - 90 * 86_400_000) } },
        _count: { _all: true },
      }),
      this.prisma.restriction.groupBy({
        by: ['accountId'],
        where: { accountId: { in: accountIds }, createdAt: { gte: new Date(Date.now() - 90 * 86_400_000) } },
        _count: { _all: true },
      }),
    ]);
    const byAccount = (accountId: string) => ({
      notices: Object.fromEntries(
        history.filter((h) => h.accountId === accountId).map((h) => [h.status, h._count._all]),
      ),
      flags90d: flags.find((f) => f.accountId === accountId)?._count._all ?? 0,
      restrictions90d: restrictions.find((r) => r.accountId === accountId)?._count._all ?? 0,
    });
    return notices.map((notice) => ({ ...notice, history: byAccount(notice.accountId) }));
  }

  async review(id: string, body: ReviewBurstNoticeDto, principal: OpsPrincipal, context: RequestContext) {
    const status = body.decision === 'approve' ? 'APPROVED' : 'REJECTED';
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.burstNotice.findUnique({ where: { id } });
      if (!before) throw new NotFoundError('burst notice', id);
      // Only a pending notice can be decided; the conditional update keeps two reviewers from both deciding.
      const { count } = await tx.burstNotice.updateMany({
        where: { id, status: 'PENDING' },
        data: { status, reviewedBy: principal.userId, reviewedAt: new Date(), reviewNote: body.note },
      });
      if (count === 0) throw new ConflictError('not_pending', `burst notice ${id} is ${before.status.toLowerCase()}`);
      const after = await tx.burstNotice.findUniqueOrThrow({ where: { id } });
      await this.audit.record(
        {
          actor: principal,
          action: `burst-notice.${body.decision}`,
          targetType: 'burst_notice',
          targetId: id,
          accountId: before.accountId,
          before: { status: before.status },
          after: { status: after.status },
          reason: body.note,
          requestId: context.requestId,
        },
        tx,
      );
      return after;
    });
  }
}
