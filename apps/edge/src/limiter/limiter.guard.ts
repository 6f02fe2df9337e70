import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable, Optional } from '@nestjs/common';
import {
  applicableRules,
  type PlanPolicy,
  rateLimitHeaders,
  renderLimited,
  type RequestFacts,
} from '@usageguard/domain';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LimiterService } from './limiter.service';

/** Who a request counts against, as the embedding app knows it (its own auth has run before the guard). */
export interface LimiterSubject {
  policy: PlanPolicy;
  facts: RequestFacts;
  /** A throttle restriction's factor (0 < f < 1), if the app applies restrictions itself. */
  throttleFactor?: number;
}

export type LimiterSubjectResolver = (
  request: IncomingMessage,
) => LimiterSubject | null | undefined | Promise<LimiterSubject | null | undefined>;

export const LIMITER_SUBJECT_RESOLVER = Symbol('LIMITER_SUBJECT_RESOLVER');

/**
 * The edge's limiter as a Nest guard, for providers who embed UsageGuard in their own Nest API instead of running
 * the gateway: same rules, same Redis script, same headers and bodies. Requests the resolver returns nothing for
 * are not limited.
 */
@Injectable()
export class LimiterGuard implements CanActivate {
  constructor(
    @Inject(LimiterService) private readonly limiter: LimiterService,
    @Optional() @Inject(LIMITER_SUBJECT_RESOLVER) private readonly resolve?: LimiterSubjectResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<IncomingMessage>();
    const response = http.getResponse<ServerResponse>();
    const subject = await this.resolve?.(request);
    if (!subject) return true;
    const rules = applicableRules(subject.policy, subject.facts, subject.throttleFactor);
    const decision = await this.limiter.check(subject.facts.accountId, rules, randomUUID());
    for (const [name, value] of Object.entries(rateLimitHeaders(decision))) response.setHeader(name, value);
    if (decision.allowed) {
      if (decision.leaseId !== null) {
        response.once('close', () => this.limiter.release(subject.facts.accountId, decision));
      }
      return true;
    }
    const status = decision.reason === 'unavailable' ? 503 : subject.policy.limitStatusCode;
    const rendered = renderLimited(subject.policy.errorStyle, status, decision);
    throw new HttpException(JSON.parse(rendered.body) as Record<string, unknown>, rendered.status);
  }
}
