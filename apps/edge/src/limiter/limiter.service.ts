import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import {
  allowAll,
  type ApplicableRule,
  CircuitBreaker,
  type LimitDecision,
  LocalBudget,
  type RuleReport,
} from '@usageguard/domain';
import { type HotCounter, MetricsService } from '@usageguard/observability';
import { limiterKeys, LimiterScriptRepository, type ScriptRule } from '@usageguard/redis';
import type { Counter, Gauge } from 'prom-client';

interface BlockedEntry {
  untilMs: number;
  decision: LimitDecision;
}

/**
 * Decides whether a request may pass: every applicable rule in one Redis round trip (LimiterScriptRepository),
 * and, when Redis is slow, down or its circuit is open, each rule's fail mode: OPEN lets it through, CLOSED answers
 * 503, LOCAL counts against this edge's share of the limit in memory. Keys known to be over a window limit are
 * answered from memory until their Retry-After, which also keeps them blocked through an outage.
 */
@Injectable()
export class LimiterService {
  private readonly logger = new Logger(LimiterService.name);
  private readonly breaker: CircuitBreaker;
  private readonly local: LocalBudget;
  private readonly blocked = new Map<string, BlockedEntry>();
  private readonly leaseMs: number;
  private degraded = false;
  private readonly decisions: HotCounter;
  private readonly redisErrors: Counter<string>;
  private readonly circuit: Gauge<string>;
  private readonly shadow: HotCounter;

  constructor(
    @Inject(LimiterScriptRepository) private readonly script: LimiterScriptRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.breaker = new CircuitBreaker(config.edge.breakerFailures, config.edge.breakerOpenMs);
    this.local = new LocalBudget(config.edge.localShare, config.edge.leaseMs);
    this.leaseMs = config.edge.leaseMs;
    this.decisions = metrics.hotCounter('usageguard_edge_limiter_decisions_total', 'Limiter decisions', [
      'source',
      'outcome',
    ]);
    this.redisErrors = metrics.counter('usageguard_edge_limiter_redis_errors_total', 'Failed limiter round trips');
    this.circuit = metrics.gauge('usageguard_edge_limiter_circuit_open', '1 while the limiter circuit is open');
    this.shadow = metrics.hotCounter(
      'usageguard_edge_limiter_shadow_limited_total',
      'Requests a shadow rule would have limited (let through)',
      ['rule'],
    );
  }

  /** Evaluates and, when admitted, consumes. `leaseId` names the concurrency lease to release at the end. */
  async check(accountId: string, rules: ApplicableRule[], leaseId: string): Promise<LimitDecision> {
    const now = Date.now();
    if (rules.length === 0) return allowAll(now, 'redis');
    const cached = this.blockedDecision(accountId, rules, now);
    if (cached) return this.count(cached);
    if (!this.breaker.allow(now)) return this.count(this.failOver(accountId, rules, leaseId, now));
    try {
      const decision = await this.evaluate('check', accountId, rules, leaseId);
      this.recovered();
      this.remember(accountId, decision);
      return this.count(decision);
    } catch (error) {
      this.failed(error);
      return this.count(this.failOver(accountId, rules, leaseId, Date.now()));
    }
  }

  /** The state of the rules without consuming anything (the rate-limit status endpoint). */
  async peek(accountId: string, rules: ApplicableRule[]): Promise<LimitDecision> {
    if (rules.length === 0) return allowAll(Date.now(), 'redis');
    return this.evaluate('peek', accountId, rules, 'peek');
  }

  /** Ends the request's concurrency leases; never throws (an unreleased lease expires after EDGE_LEASE_MS). */
  release(accountId: string, decision: LimitDecision): void {
    if (decision.leaseId === null) return;
    if (decision.source === 'local') {
      this.local.release(decision.leaseId);
      return;
    }
    const keys = decision.rules
      .filter((r) => r.applicable.rule.concurrency !== null && r.allowed)
      .map((r) => this.keysOf(accountId, r.applicable).leaseKey);
    this.script.release(keys, decision.leaseId).catch((error: unknown) => {
      this.logger.warn(`lease ${decision.leaseId} not released (expires by itself): ${String(error)}`);
    });
  }

  get circuitState(): string {
    return this.breaker.current;
  }

  private async evaluate(
    mode: 'check' | 'peek',
    accountId: string,
    rules: ApplicableRule[],
    leaseId: string,
  ): Promise<LimitDecision> {
    const scriptRules: ScriptRule[] = rules.map((a) => {
      const keys = this.keysOf(accountId, a);
      return {
        key: keys.key,
        leaseKey: keys.leaseKey,
        cost: a.rule.cost,
        shadow: a.rule.shadow,
        countLimited: a.rule.countLimited,
        concurrency: a.rule.concurrency ?? 0,
        windows: a.windows,
      };
    });
    const result = await this.script.evaluate({ mode, leaseId, leaseMs: this.leaseMs, rules: scriptRules });
    const reports: RuleReport[] = rules.map((applicable, i) => {
      const r = result.rules[i];
      return {
        applicable,
        allowed: r.allowed,
        windows: r.windows.map((w, j) => ({
          window: applicable.windows[j],
          remaining: w.remaining,
          resetAtMs: w.resetAtMs,
        })),
        concurrencyRemaining: r.concurrencyRemaining,
        retryAfterMs: r.retryAfterMs,
      };
    });
    const decision = allowAll(result.nowMs, 'redis', reports);
    if (!result.allowed) {
      const deciding = result.rules[result.deciding];
      decision.allowed = false;
      decision.decidingRule = rules[result.deciding].rule;
      decision.reason = deciding.windowDenied ? 'window' : 'concurrency';
      decision.retryAfterMs = deciding.retryAfterMs;
    } else {
      decision.shadowLimited = reports.filter((r) => !r.allowed).map((r) => r.applicable.rule.name);
      if (mode === 'check' && rules.some((a, i) => a.rule.concurrency !== null && result.rules[i].allowed)) {
        decision.leaseId = leaseId;
      }
    }
    return decision;
  }

  private keysOf(accountId: string, applicable: ApplicableRule): { key: string; leaseKey: string } {
    const tag = applicable.rule.scope === 'PLAN' ? `plan:${applicable.subject}` : accountId;
    const prefix = this.script.prefix;
    return {
      key: limiterKeys.windows(prefix, tag, applicable.rule.id, applicable.subject, applicable.windows),
      leaseKey: limiterKeys.leases(prefix, tag, applicable.rule.id, applicable.subject),
    };
  }

  /** What the fail modes decide for a request while Redis cannot answer. */
  private failOver(accountId: string, rules: ApplicableRule[], leaseId: string, now: number): LimitDecision {
    this.degraded = true;
    const closed = rules.find((a) => a.rule.failMode === 'CLOSED' && !a.rule.shadow);
    if (closed) {
      const decision = allowAll(now, 'fail-closed');
      return { ...decision, allowed: false, decidingRule: closed.rule, reason: 'unavailable', retryAfterMs: 1000 };
    }
    const local = rules.filter((a) => a.rule.failMode === 'LOCAL');
    if (local.length > 0) return this.local.decide(local, accountId, now, leaseId);
    return allowAll(now, 'fail-open');
  }

  private blockedDecision(accountId: string, rules: ApplicableRule[], now: number): LimitDecision | undefined {
    if (this.blocked.size === 0) return undefined;
    for (const a of rules) {
      const key = `${accountId}|${a.rule.id}|${a.subject}`;
      const entry = this.blocked.get(key);
      if (!entry) continue;
      if (entry.untilMs <= now) {
        this.blocked.delete(key);
        continue;
      }
      return { ...entry.decision, nowMs: now, retryAfterMs: entry.untilMs - now, source: 'blocked-cache' };
    }
    return undefined;
  }

  /** Remembers a window denial until its Retry-After: no request can make that moment come sooner. */
  private remember(accountId: string, decision: LimitDecision): void {
    const rule = decision.decidingRule;
    if (decision.allowed || !rule || decision.reason !== 'window' || rule.countLimited) return;
    const report = decision.rules.find((r) => r.applicable.rule === rule);
    if (!report) return;
    if (this.blocked.size > 100_000) this.blocked.clear();
    this.blocked.set(`${accountId}|${rule.id}|${report.applicable.subject}`, {
      untilMs: Date.now() + decision.retryAfterMs,
      decision,
    });
  }

  private recovered(): void {
    this.breaker.success();
    if (this.degraded) {
      this.degraded = false;
      this.local.clear();
      this.circuit.set(0);
      this.logger.log('limiter Redis answers again; local budgets dropped');
    }
  }

  private failed(error: unknown): void {
    this.redisErrors.inc();
    if (this.breaker.failure(Date.now())) {
      this.circuit.set(1);
      this.logger.warn(`limiter circuit open after Redis errors: ${String((error as Error)?.message ?? error)}`);
    }
  }

  private count(decision: LimitDecision): LimitDecision {
    this.decisions.inc(decision.source, decision.allowed ? 'allowed' : 'limited');
    for (const rule of decision.shadowLimited) this.shadow.inc(rule);
    return decision;
  }
}
