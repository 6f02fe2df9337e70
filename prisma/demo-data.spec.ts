import { describe, expect, it } from 'vitest';
import { parseDetectionConfig, parseEnforcementConfig } from '@usageguard/domain';
import { DEMO_ACCOUNTS, DEMO_PLANS } from './demo-data';
import { DEMO_PLAN_POLICIES } from './demo-policies';

describe('demo data', () => {
  it('gives every demo plan with policies settings the analyzer and the enforcer accept', () => {
    for (const [key, policies] of Object.entries(DEMO_PLAN_POLICIES)) {
      expect(DEMO_PLANS.map((p) => p.key)).toContain(key);
      expect(() => parseDetectionConfig(policies.detectionConfig)).not.toThrow();
      expect(parseEnforcementConfig(policies.enforcementConfig)).toMatchObject({ ok: true });
    }
  });

  it('puts every demo account on a known plan with distinct token secrets', () => {
    const secrets = DEMO_ACCOUNTS.flatMap((a) => a.tokens.map((t) => t.secret));
    expect(new Set(secrets).size).toBe(secrets.length);
    for (const account of DEMO_ACCOUNTS) expect(DEMO_PLANS.map((p) => p.key)).toContain(account.plan);
  });
});
