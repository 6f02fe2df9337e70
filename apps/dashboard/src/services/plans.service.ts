import { Inject, Injectable } from '@nestjs/common';
import { type Prisma, PrismaRepository } from '@usageguard/database';
import { ConflictError, NotFoundError } from '@usageguard/observability';
import { type OpsPrincipal } from '../auth/auth.types';
import { type RequestContext } from '../auth/request-context';
import { type LimitRuleDto, type UpdatePlanDto } from '../dtos/plans.dto';
import { AuditService } from './audit.service';

type Tx = Prisma.TransactionClient;

/**
 * Plans and limit rules. Every change bumps Plan.version in the same transaction; edges compare versions to
 * reload a plan without a restart. The edit must name the version it was made against, so two people editing the
 * same plan cannot silently overwrite each other.
 */
@Injectable()
export class PlansService {
  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  list() {
    return this.prisma.plan.findMany({
      orderBy: { key: 'asc' },
      include: {
        rules: { orderBy: [{ position: 'asc' }, { name: 'asc' }] },
        _count: { select: { accounts: true } },
      },
    });
  }

  private async bump(tx: Tx, planId: string, expectedVersion: number, data: Prisma.PlanUpdateManyMutationInput = {}) {
    const { count } = await tx.plan.updateMany({
      where: { id: planId, version: expectedVersion },
      data: { ...data, version: { increment: 1 } },
    });
    if (count === 1) return;
    const plan = await tx.plan.findUnique({ where: { id: planId }, select: { version: true } });
    if (!plan) throw new NotFoundError('plan', planId);
    throw new ConflictError(
      'stale_version',
      `plan changed since you loaded it (version ${plan.version}, you edited ${expectedVersion}); reload and retry`,
    );
  }

  private withPlan(tx: Tx, planId: string) {
    return tx.plan.findUniqueOrThrow({ where: { id: planId }, include: { rules: { orderBy: { position: 'asc' } } } });
  }

  async updatePlan(planId: string, body: UpdatePlanDto, principal: OpsPrincipal, context: RequestContext) {
    const { expectedVersion, ...fields } = body;
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.plan.findUnique({ where: { id: planId } });
      if (!before) throw new NotFoundError('plan', planId);
      await this.bump(tx, planId, expectedVersion, fields);
      const after = await this.withPlan(tx, planId);
      await this.audit.record(
        {
          actor: principal,
          action: 'plan.update',
          targetType: 'plan',
          targetId: planId,
          before: pick(before, Object.keys(fields)),
          after: { ...pick(after, Object.keys(fields)), version: after.version },
          requestId: context.requestId,
        },
        tx,
      );
      return after;
    });
  }

  private ruleData(body: LimitRuleDto) {
    const { expectedVersion: _version, windows, concurrency, ...rest } = body;
    return {
      ...rest,
      concurrency: concurrency ?? null,
      windows: windows.map((w) => ({ limit: w.limit, seconds: w.seconds, ...(w.aligned ? { aligned: true } : {}) })),
    };
  }

  async createRule(planId: string, body: LimitRuleDto, principal: OpsPrincipal, context: RequestContext) {
    return this.prisma.$transaction(async (tx) => {
      await this.bump(tx, planId, body.expectedVersion);
      const data = this.ruleData(body);
      const clash = await tx.limitRule.findUnique({ where: { planId_name: { planId, name: data.name } } });
      if (clash) throw new ConflictError('duplicate_rule', `the plan already has a rule named ${data.name}`);
      const rule = await tx.limitRule.create({ data: { ...data, planId } });
      await this.audit.record(
        {
          actor: principal,
          action: 'limit-rule.create',
          targetType: 'limit_rule',
          targetId: rule.id,
          after: rule,
          requestId: context.requestId,
        },
        tx,
      );
      return this.withPlan(tx, planId);
    });
  }

  async updateRule(
    planId: string,
    ruleId: string,
    body: LimitRuleDto,
    principal: OpsPrincipal,
    context: RequestContext,
  ) {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.limitRule.findFirst({ where: { id: ruleId, planId } });
      if (!before) throw new NotFoundError('limit rule', ruleId);
      await this.bump(tx, planId, body.expectedVersion);
      const data = this.ruleData(body);
      if (data.name !== before.name) {
        const clash = await tx.limitRule.findUnique({ where: { planId_name: { planId, name: data.name } } });
        if (clash) throw new ConflictError('duplicate_rule', `the plan already has a rule named ${data.name}`);
      }
      const after = await tx.limitRule.update({ where: { id: ruleId }, data });
      await this.audit.record(
        {
          actor: principal,
          action: 'limit-rule.update',
          targetType: 'limit_rule',
          targetId: ruleId,
          before,
          after,
          requestId: context.requestId,
        },
        tx,
      );
      return this.withPlan(tx, planId);
    });
  }

  async deleteRule(
    planId: string,
    ruleId: string,
    expectedVersion: number,
    principal: OpsPrincipal,
    context: RequestContext,
  ) {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.limitRule.findFirst({ where: { id: ruleId, planId } });
      if (!before) throw new NotFoundError('limit rule', ruleId);
      await this.bump(tx, planId, expectedVersion);
      await tx.limitRule.delete({ where: { id: ruleId } });
      await this.audit.record(
        {
          actor: principal,
          action: 'limit-rule.delete',
          targetType: 'limit_rule',
          targetId: ruleId,
          before,
          requestId: context.requestId,
        },
        tx,
      );
      return this.withPlan(tx, planId);
    });
  }
}

function pick(source: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (source as Record<string, unknown>)[k]]));
}
