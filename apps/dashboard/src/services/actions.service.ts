import { Inject, Injectable } from '@nestjs/common';
import { PrismaRepository } from '@usageguard/database';
import { ConflictError, DomainError, NotFoundError } from '@usageguard/observability';
import { type OpsPrincipal } from '../auth/auth.types';
import { type RequestContext } from '../auth/request-context';
import { type ReviewFlagDto } from '../dtos/flags.dto';
import { type ResendNotificationDto } from '../dtos/notifications.dto';
import { type ApplyRestrictionDto, type ExtendRestrictionDto, type LiftRestrictionDto } from '../dtos/restrictions.dto';
import { EnforcerGateway, opsActor } from './enforcer-gateway.service';

/**
 * The operator's decisions on flags, restrictions and held emails. Checks what the dashboard can check cheaply (the target
 * exists and is in a state the action applies to) and hands the change to the enforcer.
 */
@Injectable()
export class ActionsService {
  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(EnforcerGateway) private readonly enforcer: EnforcerGateway,
  ) {}

  async reviewFlag(flagId: string, body: ReviewFlagDto, principal: OpsPrincipal, context: RequestContext) {
    const flag = await this.prisma.flag.findUnique({ where: { id: flagId } });
    if (!flag) throw new NotFoundError('flag', flagId);
    if (flag.status !== 'OPEN') throw new ConflictError('not_open', `flag ${flagId} is ${flag.status.toLowerCase()}`);
    return this.enforcer.run(
      'review-flag',
      { flagId, decision: body.decision, actor: opsActor(principal, context), reason: body.reason },
      { type: 'flag', id: flagId, accountId: flag.accountId },
      principal,
      context,
      body.reason,
    );
  }

  async applyRestriction(
    accountId: string,
    body: ApplyRestrictionDto,
    principal: OpsPrincipal,
    context: RequestContext,
  ) {
    const account = await this.prisma.account.findUnique({ where: { id: accountId }, select: { id: true } });
    if (!account) throw new NotFoundError('account', accountId);
    if (body.flagId) {
      const flag = await this.prisma.flag.findUnique({ where: { id: body.flagId }, select: { accountId: true } });
      if (!flag || flag.accountId !== accountId) {
        throw new DomainError('validation_failed', 'flagId must name a flag of this account', 400);
      }
    }
    return this.enforcer.run(
      'apply-restriction',
      {
        accountId,
        mode: body.mode,
        scope: body.scope,
        scopeValue: body.scope === 'account' ? null : (body.scopeValue ?? null),
        throttleFactor: body.mode === 'throttle' ? (body.throttleFactor ?? null) : null,
        statusCode: body.statusCode,
        reasonCode: body.reasonCode,
        durationSeconds: body.durationSeconds,
        flagId: body.flagId ?? null,
        actor: opsActor(principal, context),
        reason: body.reason,
      },
      { type: 'account', id: accountId, accountId },
      principal,
      context,
      body.reason,
    );
  }

  private async activeRestriction(restrictionId: string) {
    const restriction = await this.prisma.restriction.findUnique({ where: { id: restrictionId } });
    if (!restriction) throw new NotFoundError('restriction', restrictionId);
    if (restriction.status !== 'ACTIVE' && restriction.status !== 'PENDING_APPROVAL') {
      throw new ConflictError('not_active', `restriction ${restrictionId} is ${restriction.status.toLowerCase()}`);
    }
    return restriction;
  }

  async extendRestriction(id: string, body: ExtendRestrictionDto, principal: OpsPrincipal, context: RequestContext) {
    const restriction = await this.activeRestriction(id);
    const expiresAt = new Date(body.expiresAt);
    if (expiresAt.getTime() <= restriction.expiresAt.getTime()) {
      throw new DomainError('validation_failed', 'expiresAt must be later than the current expiry', 400);
    }
    if (expiresAt.getTime() > Date.now() + 90 * 86_400_000) {
      throw new DomainError('validation_failed', 'expiresAt must be within 90 days', 400);
    }
    return this.enforcer.run(
      'extend-restriction',
      {
        restrictionId: id,
        expiresAt: expiresAt.toISOString(),
        actor: opsActor(principal, context),
        reason: body.reason,
      },
      { type: 'restriction', id, accountId: restriction.accountId },
      principal,
      context,
      body.reason,
    );
  }

  async liftRestriction(id: string, body: LiftRestrictionDto, principal: OpsPrincipal, context: RequestContext) {
    const restriction = await this.activeRestriction(id);
    return this.enforcer.run(
      'lift-restriction',
      { restrictionId: id, actor: opsActor(principal, context), reason: body.reason },
      { type: 'restriction', id, accountId: restriction.accountId },
      principal,
      context,
      body.reason,
    );
  }

  /** A held email (FAILED: unconfirmed, refused or without recipients) sent again, once ops checked the mail log. */
  async resendNotification(id: string, body: ResendNotificationDto, principal: OpsPrincipal, context: RequestContext) {
    const notification = await this.prisma.notification.findUnique({ where: { id } });
    if (!notification) throw new NotFoundError('notification', id);
    if (notification.status !== 'FAILED') {
      throw new ConflictError('not_held', `notification ${id} is ${notification.status.toLowerCase()}, not held`);
    }
    return this.enforcer.run(
      'resend-notification',
      { notificationId: id, actor: opsActor(principal, context), reason: body.reason },
      { type: 'notification', id, accountId: notification.accountId },
      principal,
      context,
      body.reason,
    );
  }
}
