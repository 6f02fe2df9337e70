import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';
import { LocalBudget } from './local-budget';
import { applicableRules, compilePolicy, type RawPlan } from './policy';

const T0 = Date.UTC(2026, 0, 15, 10, 0, 5);
const raw: RawPlan = {
  id: 'p',
  key: 'p',
  name: 'p',
  apiAccess: true,
  errorStyle: 'NESTJS',
  limitStatusCode: 429,
  priorPerMinute: 1,
  version: 1,
  rules: [
    { name: 'token', scope: 'TOKEN', windows: [{ limit: 10, seconds: 60 }] },
    { name: 'account', scope: 'ACCOUNT', windows: [{ limit: 4, seconds: 60 }], concurrency: 2 },
    { name: 'shadow', scope: 'TOKEN', windows: [{ limit: 1, seconds: 60 }], shadow: true },
  ],
};
const policy = compilePolicy(raw);
const rules = applicableRules(policy, { accountId: 'a', tokenId: 't', clientIp: '1.1.1.1', method: 'GET', route: '/' });

describe('LocalBudget', () => {
  it('is all-or-nothing: a request denied by one rule consumes nothing from the others', () => {
    const budget = new LocalBudget(1, 60_000);
    const first = budget.decide(rules, 'a', T0, 'l1');
    const second = budget.decide(rules, 'a', T0, 'l2');
    expect(first.allowed && second.allowed).toBe(true);
    const third = budget.decide(rules, 'a', T0, 'l3'); // concurrency 2 held
    expect(third).toMatchObject({ allowed: false, reason: 'concurrency' });
    expect(third.decidingRule!.name).toBe('account');
    budget.release('l1');
    const fourth = budget.decide(rules, 'a', T0, 'l4');
    expect(fourth.allowed).toBe(true);
    // token rule consumed 3 (not 4): the denied third request took nothing.
    expect(fourth.rules[0].windows[0].remaining).toBe(7);
  });

  it('records shadow rules that would deny without blocking', () => {
    const budget = new LocalBudget(1, 60_000);
    budget.decide(rules, 'a', T0, 'x1');
    budget.release('x1');
    const d = budget.decide(rules, 'a', T0, 'x2');
    expect(d.allowed).toBe(true);
    expect(d.shadowLimited).toEqual(['shadow']);
  });

  it('scales limits by its share of the fleet and names the deciding window rule', () => {
    const budget = new LocalBudget(0.5, 60_000);
    const outcomes = [1, 2, 3].map((i) => {
      const d = budget.decide(rules, 'a', T0, `s${i}`);
      budget.release(`s${i}`);
      return d;
    });
    expect(outcomes.map((d) => d.allowed)).toEqual([true, true, false]); // 4 × 0.5 = 2
    expect(outcomes[2]).toMatchObject({ reason: 'window' });
    expect(outcomes[2].retryAfterMs).toBeGreaterThan(0);
  });

  it('expires leases nobody released', () => {
    const budget = new LocalBudget(1, 1000);
    budget.decide(rules, 'a', T0, 'a1');
    budget.decide(rules, 'a', T0, 'a2');
    expect(budget.decide(rules, 'a', T0 + 10, 'a3').allowed).toBe(false);
    expect(budget.decide(rules, 'a', T0 + 1000, 'a4').allowed).toBe(true);
  });
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, probes once after the cool-down, closes on success', () => {
    const b = new CircuitBreaker(3, 1000);
    b.failure(0);
    b.failure(1);
    b.success();
    b.failure(2);
    b.failure(3);
    expect(b.current).toBe('closed');
    b.failure(4);
    expect(b.current).toBe('open');
    expect(b.allow(500)).toBe(false);
    expect(b.allow(1004)).toBe(true);
    expect(b.current).toBe('half-open');
    expect(b.allow(1005)).toBe(false); // one probe at a time
    b.failure(1006);
    expect(b.current).toBe('open');
    expect(b.allow(1500)).toBe(false);
    expect(b.allow(2006)).toBe(true);
    b.success();
    expect(b.current).toBe('closed');
    expect(b.allow(2007)).toBe(true);
  });
});
