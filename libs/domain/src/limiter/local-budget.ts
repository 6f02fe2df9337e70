import { type LimitDecision, type RuleReport, allowAll } from './decision';
import type { ApplicableRule } from './policy';
import { evaluateWindow, type WindowState } from './window-math';

interface Evaluated {
  report: RuleReport;
  concurrencyDenied: boolean;
  commit: () => void;
}

/**
 * The in-process limiter used for rules with fail mode LOCAL while Redis is unreachable: the same algorithm over
 * memory, each limit scaled by `share` (this edge's part of the fleet's budget, e.g. 1/number of edges), so the fleet
 * as a whole stays near the configured limits without coordination. Same all-or-nothing rule as the Lua script.
 */
export class LocalBudget {
  private readonly windows = new Map<string, WindowState>();
  private readonly leases = new Map<string, Map<string, number>>();

  constructor(
    private readonly share: number,
    private readonly leaseMs: number,
  ) {}

  decide(rules: ApplicableRule[], accountId: string, nowMs: number, leaseId: string): LimitDecision {
    const evaluated = rules.map((applicable) => this.evaluate(applicable, accountId, nowMs, leaseId));
    const reports = evaluated.map((e) => e.report);
    const deciding = evaluated.find((e) => !e.report.allowed && !e.report.applicable.rule.shadow);
    const decision = allowAll(nowMs, 'local', reports);
    if (deciding) {
      decision.allowed = false;
      decision.decidingRule = deciding.report.applicable.rule;
      decision.reason = deciding.concurrencyDenied ? 'concurrency' : 'window';
      decision.retryAfterMs = deciding.report.retryAfterMs;
      return decision;
    }
    for (const e of evaluated) if (e.report.allowed) e.commit();
    decision.shadowLimited = reports.filter((r) => !r.allowed).map((r) => r.applicable.rule.name);
    decision.leaseId = reports.some((r) => r.allowed && r.applicable.rule.concurrency !== null) ? leaseId : null;
    return decision;
  }

  release(leaseId: string): void {
    for (const held of this.leases.values()) held.delete(leaseId);
  }

  clear(): void {
    this.windows.clear();
    this.leases.clear();
  }

  private evaluate(applicable: ApplicableRule, accountId: string, nowMs: number, leaseId: string): Evaluated {
    const { rule } = applicable;
    const base = `${accountId}|${rule.id}|${applicable.subject}`;
    const verdicts = applicable.windows.map((w) => {
      const scaled = { ...w, limit: Math.max(1, Math.floor(w.limit * this.share)) };
      const key = `${base}|${w.seconds}|${w.aligned ? 1 : 0}`;
      return { key, verdict: evaluateWindow(scaled, this.windows.get(key), nowMs, rule.cost) };
    });
    let concurrencyRemaining: number | null = null;
    let concurrencyDenied = false;
    if (rule.concurrency !== null) {
      const held = this.liveLeases(base, nowMs);
      const limit = Math.max(1, Math.floor(rule.concurrency * this.share));
      concurrencyDenied = held.size >= limit;
      concurrencyRemaining = Math.max(0, limit - held.size - (concurrencyDenied ? 0 : 1));
    }
    const windowsAllowed = verdicts.every((v) => v.verdict.allowed);
    const allowed = windowsAllowed && !concurrencyDenied;
    const retries = verdicts.map((v) => v.verdict.retryAfterMs);
    return {
      concurrencyDenied: windowsAllowed && concurrencyDenied,
      report: {
        applicable,
        allowed,
        windows: verdicts.map((v, i) => ({
          window: applicable.windows[i],
          remaining: v.verdict.remaining,
          resetAtMs: v.verdict.resetAtMs,
        })),
        concurrencyRemaining,
        retryAfterMs: allowed ? 0 : Math.max(concurrencyDenied ? 1000 : 0, ...retries),
      },
      commit: () => {
        for (const v of verdicts) this.windows.set(v.key, v.verdict.next);
        if (rule.concurrency !== null) this.liveLeases(base, nowMs).set(leaseId, nowMs + this.leaseMs);
      },
    };
  }

  private liveLeases(key: string, nowMs: number): Map<string, number> {
    let held = this.leases.get(key);
    if (!held) {
      held = new Map();
      this.leases.set(key, held);
    }
    for (const [id, expiresAt] of held) if (expiresAt <= nowMs) held.delete(id);
    return held;
  }
}
