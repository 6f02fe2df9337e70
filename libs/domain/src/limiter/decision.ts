import type { ApplicableRule, LimitRule, LimitWindow } from './policy';

/** One window of one rule as the limiter left it. `limit` is the applied limit (after any throttle). */
export interface WindowReport {
  window: LimitWindow;
  remaining: number;
  resetAtMs: number;
}

export interface RuleReport {
  applicable: ApplicableRule;
  /** Whether this rule alone admits the request (a shadow rule may say no without blocking). */
  allowed: boolean;
  windows: WindowReport[];
  /** Leases left for a rule with a concurrency limit; null otherwise. */
  concurrencyRemaining: number | null;
  retryAfterMs: number;
}

/** Where the verdict came from: Redis, the local budget or fail mode while Redis is away, or the blocked-key cache. */
export type DecisionSource = 'redis' | 'local' | 'fail-open' | 'fail-closed' | 'blocked-cache';

export interface LimitDecision {
  allowed: boolean;
  /** The enforcing rule that denied the request (the first in plan order), or null. */
  decidingRule: LimitRule | null;
  /** Why the deciding rule said no: a window or the concurrency limit. */
  reason: 'window' | 'concurrency' | 'unavailable' | null;
  retryAfterMs: number;
  nowMs: number;
  rules: RuleReport[];
  source: DecisionSource;
  /** Names of shadow rules that would have denied this request. */
  shadowLimited: string[];
  /** Lease to release when the request ends (present when a concurrency rule admitted it). */
  leaseId: string | null;
}

export function allowAll(nowMs: number, source: DecisionSource, rules: RuleReport[] = []): LimitDecision {
  return {
    allowed: true,
    decidingRule: null,
    reason: null,
    retryAfterMs: 0,
    nowMs,
    rules,
    source,
    shadowLimited: [],
    leaseId: null,
  };
}

/** Rules that enforce (not shadow) and said no: the "violated policies" of a problem+json body. */
export function violatedRules(decision: LimitDecision): RuleReport[] {
  return decision.rules.filter((r) => !r.allowed && !r.applicable.rule.shadow);
}
