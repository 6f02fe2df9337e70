import { Inject, Injectable } from '@nestjs/common';
import { type BurstNotice, PrismaRepository } from '@usageguard/database';
import { isLateNotice, isValidTimeZone, parseDetectionConfig, parseZonedTime } from '@usageguard/domain';
import { ConflictError, DomainError, NotFoundError } from '@usageguard/observability';
import { type CreateBurstNoticeDto } from '../controllers/burst-notices.dto';

const MAX_WINDOW_MS = 7 * 24 * 3_600_000;

/**
 * Burst notices submitted by customers (seed 000). Notices start PENDING; ops approve or reject them in the
 * dashboard. Late notices (under the plan's notice period, 48 hours by default) are accepted and marked late.
 */
@Injectable()
export class BurstNoticesService {
  constructor(@Inject(PrismaRepository) private readonly prisma: PrismaRepository) {}

  async create(customer: { accountId: string; tokenId: string }, body: CreateBurstNoticeDto): Promise<BurstNotice> {
    if (!isValidTimeZone(body.timezone)) {
      throw new DomainError('invalid_timezone', `unknown time zone ${body.timezone}`, 400);
    }
    const startsAt = parseZonedTime(body.startsAt, body.timezone);
    if (startsAt === null) throw new DomainError('invalid_window', 'startsAt is not a timestamp', 400);
    const endsAt =
      body.endsAt !== undefined
        ? parseZonedTime(body.endsAt, body.timezone)
        : body.durationMinutes !== undefined
          ? startsAt + body.durationMinutes * 60_000
          : null;
    if (endsAt === null) throw new DomainError('invalid_window', 'give endsAt or durationMinutes', 400);
    if (endsAt <= startsAt) throw new DomainError('invalid_window', 'the window must end after it starts', 400);
    if (endsAt - startsAt > MAX_WINDOW_MS)
      throw new DomainError('invalid_window', 'a window lasts 7 days at most', 400);
    const now = Date.now();
    if (endsAt <= now) throw new DomainError('invalid_window', 'the window is already over', 400);
    if (body.expectedPerMinute === undefined && body.expectedPerHour === undefined) {
      throw new DomainError('missing_volume', 'give expectedPerMinute or expectedPerHour', 400);
    }
    const account = await this.prisma.account.findUniqueOrThrow({
      where: { id: customer.accountId },
      select: { plan: { select: { detectionConfig: true } } },
    });
    let noticeHours = 48;
    try {
      noticeHours = parseDetectionConfig(account.plan.detectionConfig).burst.noticeHours;
    } catch {
      // A plan with broken detection settings still gets the published 48 hours.
    }
    return this.prisma.$transaction(async (tx) => {
      const notice = await tx.burstNotice.create({
        data: {
          accountId: customer.accountId,
          startsAt: new Date(startsAt),
          endsAt: new Date(endsAt),
          timezone: body.timezone,
          expectedPerMinute: body.expectedPerMinute ?? null,
          expectedPerHour: body.expectedPerHour ?? null,
          endpoints: body.endpoints ?? [],
          context: body.context ?? '',
          late: isLateNotice(now, startsAt, noticeHours),
          submittedByType: 'CUSTOMER',
          submittedBy: customer.tokenId,
        },
      });
      await tx.auditEvent.create({
        data: {
          actorType: 'CUSTOMER',
          actorId: customer.tokenId,
          action: 'burst_notice.submitted',
          targetType: 'burst_notice',
          targetId: notice.id,
          accountId: customer.accountId,
          after: { startsAt: notice.startsAt.toISOString(), endsAt: notice.endsAt.toISOString(), late: notice.late },
        },
      });
      return notice;
    });
  }

  list(accountId: string, status?: BurstNotice['status']): Promise<BurstNotice[]> {
    return this.prisma.burstNotice.findMany({
      where: { accountId, ...(status ? { status } : {}) },
      orderBy: { startsAt: 'desc' },
      take: 200,
    });
  }

  async get(accountId: string, id: string): Promise<BurstNotice> {
    const notice = await this.prisma.burstNotice.findFirst({ where: { id, accountId } });
    // Another account's notice is reported as absent, never as forbidden: its existence is not the caller's business.
    if (!notice) throw new NotFoundError('burst notice', id);
    return notice;
  }

  /** Withdraws a pending or approved notice whose window has not ended. */
  async cancel(customer: { accountId: string; tokenId: string }, id: string): Promise<BurstNotice> {
    const before = await this.get(customer.accountId, id);
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.burstNotice.updateMany({
        where: {
          id,
          accountId: customer.accountId,
          status: { in: ['PENDING', 'APPROVED'] },
          endsAt: { gt: new Date() },
        },
        data: { status: 'CANCELLED' },
      });
      if (count === 0) {
        throw new ConflictError('not_cancellable', `burst notice ${id} is ${before.status.toLowerCase()} or over`);
      }
      await tx.auditEvent.create({
        data: {
          actorType: 'CUSTOMER',
          actorId: customer.tokenId,
          action: 'burst_notice.cancelled',
          targetType: 'burst_notice',
          targetId: id,
          accountId: customer.accountId,
          before: { status: before.status },
          after: { status: 'CANCELLED' },
        },
      });
      return tx.burstNotice.findUniqueOrThrow({ where: { id } });
    });
  }
}
