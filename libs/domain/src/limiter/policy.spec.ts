import { describe, expect, it } from 'vitest';
import { matchCidr, parseCidr } from './network';
import { applicableRules, compilePolicy, PolicyError, type RawPlan, type RequestFacts } from './policy';
import { operationOf, RouteTable } from './routes';

const plan = (rules: RawPlan['rules']): RawPlan => ({
  id: 'plan-1',
  key: 'p',
  name: 'P',
  apiAccess: true,
  errorStyle: 'NESTJS',
  limitStatusCode: 429,
  priorPerMinute: 30,
  version: 1,
  rules,
});

const facts: RequestFacts = {
  accountId: 'acct',
  tokenId: 'tok',
  clientIp: '10.1.2.3',
  method: 'POST',
  route: '/v1/licenses/validate',
};

describe('compilePolicy', () => {
  it('validates windows, cost and concurrency, naming the rule', () => {
    expect(() => compilePolicy(plan([{ name: 'r', scope: 'TOKEN', windows: [{ limit: -1, seconds: 60 }] }]))).toThrow(
      /rule r: windows\[0\]\.limit/,
    );
    expect(() => compilePolicy(plan([{ name: 'r', scope: 'TOKEN', windows: [{ limit: 1, seconds: 0 }] }]))).toThrow(
      PolicyError,
    );
    expect(() => compilePolicy(plan([{ name: 'r', scope: 'TOKEN', windows: 'x' }]))).toThrow(/must be an array/);
    expect(() => compilePolicy(plan([{ name: 'r', scope: 'TOKEN', windows: [] }]))).toThrow(/at least one window/);
    expect(() => compilePolicy(plan([{ name: 'r', scope: 'TOKEN', windows: [], concurrency: 0 }]))).toThrow(
      /concurrency/,
    );
  });

  it('drops disabled rules and defaults the rest', () => {
    const p = compilePolicy(
      plan([
        { name: 'off', scope: 'TOKEN', windows: [{ limit: 1, seconds: 1 }], enabled: false },
        { name: 'on', scope: 'ACCOUNT', windows: [{ limit: 5, seconds: 3600, aligned: true }] },
      ]),
    );
    expect(p.rules).toHaveLength(1);
    expect(p.rules[0]).toMatchObject({ name: 'on', cost: 1, failMode: 'OPEN', shadow: false, concurrency: null });
    expect(p.rules[0].windows).toEqual([{ limit: 5, seconds: 3600, aligned: true }]);
  });
});

describe('applicableRules', () => {
  const policy = compilePolicy(
    plan([
      { name: 'per-ip', scope: 'IP', windows: [{ limit: 300, seconds: 60 }] },
      { name: 'per-token', scope: 'TOKEN', windows: [{ limit: 600, seconds: 60 }] },
      {
        name: 'license',
        scope: 'TOKEN',
        routes: ['POST /v1/licenses/validate', 'POST /v1/licenses/activate'],
        windows: [{ limit: 30, seconds: 60 }],
      },
      { name: 'office', scope: 'IP', cidrs: ['10.0.0.0/8'], windows: [{ limit: 50, seconds: 60 }] },
      { name: 'account', scope: 'ACCOUNT', windows: [{ limit: 9, seconds: 60 }] },
      { name: 'route', scope: 'ROUTE', routes: ['/v1/licenses/*'], windows: [{ limit: 9, seconds: 60 }] },
      { name: 'plan', scope: 'PLAN', windows: [{ limit: 9, seconds: 60 }] },
    ]),
  );

  it('keys each rule by its dimension', () => {
    const rules = applicableRules(policy, facts);
    expect(rules.map((r) => [r.rule.name, r.subject])).toEqual([
      ['per-ip', '10.1.2.3'],
      ['per-token', 'tok'],
      ['license', 'tok'],
      ['office', '10.0.0.0/8'],
      ['account', 'acct'],
      ['route', 'POST /v1/licenses/validate'],
      ['plan', 'plan-1'],
    ]);
  });

  it('skips route rules on other routes or methods and CIDR rules for other clients', () => {
    const names = applicableRules(policy, { ...facts, method: 'GET', clientIp: '192.168.1.1' }).map((r) => r.rule.name);
    expect(names).toEqual(['per-ip', 'per-token', 'account', 'route', 'plan']);
  });

  it('a throttle scales every limit down, never below 1', () => {
    const rules = applicableRules(policy, facts, 0.1);
    expect(rules.find((r) => r.rule.name === 'license')!.windows[0].limit).toBe(3);
    expect(rules.find((r) => r.rule.name === 'account')!.windows[0].limit).toBe(1);
  });

  it('a throttle on a plan without rules limits the account to a fraction of its prior rate', () => {
    const empty = compilePolicy(plan([]));
    expect(applicableRules(empty, facts)).toEqual([]);
    const [rule] = applicableRules(empty, facts, 0.5);
    expect(rule.subject).toBe('acct');
    expect(rule.windows).toEqual([{ limit: 15, seconds: 60, aligned: false }]);
  });
});

describe('networks', () => {
  it('matches IPv4, IPv6 and IPv4-mapped addresses', () => {
    expect(matchCidr(parseCidr('10.0.0.0/8'), '10.200.3.4')).toBe(true);
    expect(matchCidr(parseCidr('10.0.0.0/8'), '11.0.0.1')).toBe(false);
    expect(matchCidr(parseCidr('10.0.0.0/8'), '::ffff:10.0.0.1')).toBe(true);
    expect(matchCidr(parseCidr('2001:db8::/32'), '2001:db8:1::5')).toBe(true);
    expect(matchCidr(parseCidr('2001:db8::/32'), '2001:db9::1')).toBe(false);
    expect(matchCidr(parseCidr('0.0.0.0/0'), '8.8.8.8')).toBe(true);
    expect(matchCidr(parseCidr('192.168.1.7'), '192.168.1.7')).toBe(true);
    expect(() => parseCidr('10.0.0.0/33')).toThrow();
    expect(() => parseCidr('nope/8')).toThrow();
  });
});

describe('RouteTable', () => {
  const table = new RouteTable([
    'POST /v1/licenses/validate',
    '/v1/contacts/:id',
    '/v1/contacts/:id/notes',
    '/files/*',
  ]);

  it('resolves exact, parameterised and wildcard templates', () => {
    expect(table.resolve('/v1/licenses/validate?x=1')).toBe('/v1/licenses/validate');
    expect(table.resolve('/v1/contacts/abc')).toBe('/v1/contacts/:id');
    expect(table.resolve('/v1/contacts/abc/notes/')).toBe('/v1/contacts/:id/notes');
    expect(table.resolve('/files/a/b/c')).toBe('/files/*');
  });

  it('normalises id-like segments of unknown paths', () => {
    expect(table.resolve('/v2/orders/12345/items/3f2504e0-4f89-11d3-9a0c-0305e82c3301')).toBe(
      '/v2/orders/:id/items/:id',
    );
    expect(table.resolve('/')).toBe('/');
  });

  it('classifies operations', () => {
    expect(operationOf('GET', '/v1/x')).toBe('read');
    expect(operationOf('DELETE', '/v1/x')).toBe('write');
    expect(operationOf('POST', '/v1/contacts/bulk')).toBe('bulk');
    expect(operationOf('POST', '/oauth/token')).toBe('auth');
  });
});
