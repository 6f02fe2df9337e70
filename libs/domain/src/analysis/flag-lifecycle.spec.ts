import { describe, expect, it } from 'vitest';
import { decideFlag, wakesEnforcer } from './flag-lifecycle';
import { type Finding } from './rules';

const finding = (severity: Finding['severity']): Finding => ({
  kind: 'SUSTAINED_EXCESS',
  severity,
  score: 3,
  summary: '',
  details: {},
});
const open = { id: 'f1', severity: 'MEDIUM' as const, version: 2 };

describe('flag lifecycle', () => {
  it('opens a flag for a new finding and wakes the enforcer', () => {
    const action = decideFlag(null, finding('LOW'));
    expect(action.action).toBe('open');
    expect(wakesEnforcer(action)).toBe(true);
    expect(decideFlag(null, null)).toEqual({ action: 'none' });
  });

  it('escalates to a higher severity and wakes the enforcer again', () => {
    const action = decideFlag(open, finding('HIGH'));
    expect(action).toMatchObject({ action: 'escalate', flagId: 'f1' });
    expect(wakesEnforcer(action)).toBe(true);
  });

  it('updates without waking the enforcer at the same or lower severity, keeping the peak', () => {
    const same = decideFlag(open, finding('MEDIUM'));
    expect(same).toMatchObject({ action: 'update', flagId: 'f1' });
    expect(wakesEnforcer(same)).toBe(false);
    expect(decideFlag(open, finding('LOW'))).toMatchObject({ action: 'update', finding: { severity: 'MEDIUM' } });
  });

  it('resolves when the rule no longer holds', () => {
    const action = decideFlag(open, null);
    expect(action).toEqual({ action: 'resolve', flagId: 'f1' });
    expect(wakesEnforcer(action)).toBe(false);
  });
});
