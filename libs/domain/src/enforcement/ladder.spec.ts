import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LADDER,
  type EnforcementConfig,
  SEVERITIES,
  type SeverityName,
  parseEnforcementConfig,
} from './enforcement-config';
import {
  countOffences,
  decideEnforcement,
  isEscalation,
  type PastRestriction,
  restrictionExpiry,
  severityRank,
} from './ladder';

const defaults = (): EnforcementConfig => {
  const parsed = parseEnforcementConfig({});
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.config;
};

const decide = (
  severity: SeverityName,
  priorOffences = 0,
  extra: Partial<EnforcementConfig> = {},
  allowlisted = false,
) =>
  decideEnforcement({
    config: { ...defaults(), ...extra },
    severity,
    priorOffences,
    allowlisted,
    planStatusCode: 429,
  });

describe('enforcement config', () => {
  it('gives the default ladder for an empty object and for null', () => {
    for (const input of [{}, null, undefined]) {
      const parsed = parseEnforcementConfig(input);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) {
        expect(parsed.config.ladder).toEqual(DEFAULT_LADDER);
        expect(parsed.config.autoApplyFrom).toBe('HIGH');
        expect(parsed.config.repeatWindowDays).toBe(30);
        expect(parsed.config.reasonCode).toBe('reasonable_use');
      }
    }
  });

  it('names each bad field', () => {
    const parsed = parseEnforcementConfig({
      ladder: [{ mode: 'throttle', throttleFactor: 1.5, durationSeconds: 3600 }],
      autoApplyFrom: 'SOMETIMES',
    });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toContain('ladder.0.throttleFactor');
      expect(parsed.reason).toContain('autoApplyFrom');
    }
  });

  it('rejects unknown fields, unknown modes, short durations and an empty ladder', () => {
    expect(parseEnforcementConfig({ ladders: [] }).ok).toBe(false);
    expect(parseEnforcementConfig({ ladder: [{ mode: 'ban', durationSeconds: 3600 }] }).ok).toBe(false);
    expect(parseEnforcementConfig({ ladder: [{ mode: 'block', durationSeconds: 0 }] }).ok).toBe(false);
    expect(parseEnforcementConfig({ ladder: [] }).ok).toBe(false);
    expect(parseEnforcementConfig({ ladder: [{ mode: 'block', durationSeconds: 3600, statusCode: 500 }] }).ok).toBe(
      false,
    );
    expect(parseEnforcementConfig({ reasonCode: 'Has Spaces' }).ok).toBe(false);
  });

  it('rejects a start rung beyond the ladder', () => {
    const parsed = parseEnforcementConfig({ ladder: [{ mode: 'block', durationSeconds: 3600 }] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain('startRung.HIGH');
    const fitted = parseEnforcementConfig({
      ladder: [{ mode: 'block', durationSeconds: 3600 }],
      startRung: { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
    });
    expect(fitted.ok).toBe(true);
  });
});

describe('decideEnforcement', () => {
  it('starts each severity on its configured rung', () => {
    expect(decide('LOW').level).toBe(0);
    expect(decide('MEDIUM').level).toBe(0);
    expect(decide('HIGH').level).toBe(1);
    expect(decide('CRITICAL').level).toBe(2);
  });

  it('describes the rung: notify, throttle with its factor, block', () => {
    expect(decide('LOW')).toMatchObject({ mode: 'notify', throttleFactor: null, durationSeconds: 86_400 });
    expect(decide('HIGH')).toMatchObject({ mode: 'throttle', throttleFactor: 0.5, durationSeconds: 3_600 });
    expect(decide('CRITICAL')).toMatchObject({ mode: 'block', throttleFactor: null, durationSeconds: 3_600 });
  });

  it('escalates repeat offenders one rung per earlier offence and stops at the top', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => decide('LOW', n).level)).toEqual([0, 1, 2, 3, 3, 3]);
    expect([0, 1, 2].map((n) => decide('CRITICAL', n).level)).toEqual([2, 3, 3]);
    expect(decide('CRITICAL', 5).explanation).toContain('top of the ladder');
  });

  it('treats negative or fractional offence counts as whole non-negative numbers', () => {
    expect(decide('LOW', -3).level).toBe(0);
    expect(decide('LOW', 1.9).level).toBe(1);
  });

  it('applies automatically from the chosen severity and asks ops below it', () => {
    for (const severity of SEVERITIES) {
      expect(decide(severity).approval).toBe(severityRank(severity) >= severityRank('HIGH') ? 'auto' : 'ops');
      expect(decide(severity, 0, { autoApplyFrom: 'LOW' }).approval).toBe('auto');
      expect(decide(severity, 0, { autoApplyFrom: 'CRITICAL' }).approval).toBe(
        severity === 'CRITICAL' ? 'auto' : 'ops',
      );
      expect(decide(severity, 0, { autoApplyFrom: 'NEVER' }).approval).toBe('ops');
    }
    expect(decide('LOW').explanation).toContain('below HIGH');
    expect(decide('LOW', 0, { autoApplyFrom: 'NEVER' }).explanation).toContain('every restriction');
  });

  it('never applies automatically to an allowlisted account, whatever the severity', () => {
    for (const severity of SEVERITIES) {
      const decision = decide(severity, 3, { autoApplyFrom: 'LOW' }, true);
      expect(decision.approval).toBe('ops');
      expect(decision.explanation).toContain('allowlisted');
    }
  });

  it("uses the rung's status code, else the plan's (429, or 503 for Kobble)", () => {
    const ladder: EnforcementConfig['ladder'] = [
      { mode: 'block', durationSeconds: 600 },
      { mode: 'block', durationSeconds: 600, statusCode: 503 },
    ];
    const startRung = { LOW: 0, MEDIUM: 0, HIGH: 1, CRITICAL: 1 };
    const base = { config: { ...defaults(), ladder, startRung }, priorOffences: 0, allowlisted: false };
    expect(decideEnforcement({ ...base, severity: 'LOW', planStatusCode: 429 }).statusCode).toBe(429);
    expect(decideEnforcement({ ...base, severity: 'LOW', planStatusCode: 503 }).statusCode).toBe(503);
    expect(decideEnforcement({ ...base, severity: 'HIGH', planStatusCode: 429 }).statusCode).toBe(503);
    expect(decideEnforcement({ ...base, severity: 'LOW', planStatusCode: 418 }).statusCode).toBe(429);
  });

  it("carries the plan's reason code", () => {
    expect(decide('HIGH', 0, { reasonCode: 'sustained_excess' }).reasonCode).toBe('sustained_excess');
  });
});

describe('countOffences', () => {
  const now = new Date('2026-11-24T00:00:00Z');
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
  const past = (p: Partial<PastRestriction> & { id: string }): PastRestriction => ({
    flagId: null,
    status: 'EXPIRED',
    createdAt: daysAgo(1),
    ...p,
  });

  it('counts one offence per flag and one per manual restriction', () => {
    const list = [
      past({ id: 'r1', flagId: 'f1' }),
      past({ id: 'r2', flagId: 'f1', status: 'LIFTED' }), // escalation of the same flag
      past({ id: 'r3', flagId: 'f2', status: 'ACTIVE' }),
      past({ id: 'r4' }),
      past({ id: 'r5' }),
    ];
    expect(countOffences(list, { now, windowDays: 30 })).toBe(4);
  });

  it('ignores proposals, rejections, forgiven restrictions, the current flag and the old ones', () => {
    const list = [
      past({ id: 'r1', status: 'PENDING_APPROVAL', flagId: 'f1' }),
      past({ id: 'r2', status: 'REJECTED', flagId: 'f2' }),
      past({ id: 'r3', flagId: 'f3', forgiven: true }),
      past({ id: 'r4', flagId: 'current' }),
      past({ id: 'r5', flagId: 'f5', createdAt: daysAgo(31) }),
      past({ id: 'r6', flagId: 'f6', createdAt: daysAgo(29) }),
    ];
    expect(countOffences(list, { now, windowDays: 30, excludeFlagId: 'current' })).toBe(1);
    expect(countOffences(list, { now, windowDays: 60, excludeFlagId: 'current' })).toBe(2);
    expect(countOffences([], { now, windowDays: 30 })).toBe(0);
  });

  it('does not count the restriction in force a flag joins: the same incident, not an earlier one', () => {
    const list = [past({ id: 'r1', flagId: 'f1', status: 'ACTIVE' }), past({ id: 'r2', flagId: 'f2' })];
    expect(countOffences(list, { now, windowDays: 30, excludeFlagId: 'f3' })).toBe(2);
    expect(countOffences(list, { now, windowDays: 30, excludeFlagId: 'f3', excludeRestrictionId: 'r1' })).toBe(1);
  });
});

describe('helpers', () => {
  it('computes the expiry from the rung duration', () => {
    expect(restrictionExpiry(new Date('2026-01-01T00:00:00Z'), 3600).toISOString()).toBe('2026-01-01T01:00:00.000Z');
  });

  it('only a higher level is an escalation', () => {
    expect(isEscalation(null, { level: 0 })).toBe(true);
    expect(isEscalation({ level: 1 }, { level: 2 })).toBe(true);
    expect(isEscalation({ level: 2 }, { level: 2 })).toBe(false);
    expect(isEscalation({ level: 3 }, { level: 1 })).toBe(false);
  });

  it('ranks severities in order', () => {
    expect(SEVERITIES.map(severityRank)).toEqual([0, 1, 2, 3]);
  });
});
