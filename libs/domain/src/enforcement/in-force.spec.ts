import { describe, expect, it } from 'vitest';
import { type FlagProposal, type InForce, isStronger, weighFlag } from './in-force';

const now = new Date('2026-11-24T12:00:00Z');
const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);

/** A restriction started ten minutes ago for an hour. */
const inForce = (p: Partial<InForce> = {}): InForce => ({
  mode: 'throttle',
  throttleFactor: 0.5,
  startsAt: at(-10),
  expiresAt: at(50),
  ...p,
});
const proposal = (p: Partial<FlagProposal> = {}): FlagProposal => ({
  mode: 'throttle',
  throttleFactor: 0.5,
  durationSeconds: 3600,
  approval: 'auto',
  ...p,
});

describe('isStronger', () => {
  it('ranks block over throttle over notify, whatever the durations', () => {
    expect(isStronger(inForce(), proposal({ mode: 'block', throttleFactor: null, durationSeconds: 60 }), now)).toBe(
      true,
    );
    expect(isStronger(inForce({ mode: 'notify', throttleFactor: null }), proposal(), now)).toBe(true);
    expect(
      isStronger(inForce({ mode: 'block', throttleFactor: null }), proposal({ durationSeconds: 86_400 }), now),
    ).toBe(false);
    expect(
      isStronger(inForce(), proposal({ mode: 'notify', throttleFactor: null, durationSeconds: 86_400 }), now),
    ).toBe(false);
  });

  it('takes a smaller throttle factor as stronger, a larger one as weaker even when longer', () => {
    expect(isStronger(inForce(), proposal({ throttleFactor: 0.25 }), now)).toBe(true);
    expect(isStronger(inForce(), proposal({ throttleFactor: 0.75, durationSeconds: 86_400 }), now)).toBe(false);
  });

  it('takes the same effect on the same rung as not stronger, though it would end a little later', () => {
    expect(isStronger(inForce(), proposal(), now)).toBe(false);
  });

  it('takes the same effect as stronger when its rung lasts longer than the whole restriction and ends later', () => {
    expect(isStronger(inForce(), proposal({ durationSeconds: 86_400 }), now)).toBe(true);
    // Longer than the rung in force, but an extension by ops already reaches further.
    expect(isStronger(inForce({ expiresAt: at(2 * 1440) }), proposal({ durationSeconds: 86_400 }), now)).toBe(false);
  });
});

describe('weighFlag', () => {
  it('applies a restriction of its own when nothing is in force', () => {
    expect(weighFlag(null, proposal(), now)).toEqual({ action: 'apply' });
    expect(weighFlag(null, proposal({ approval: 'ops' }), now)).toEqual({ action: 'apply' });
  });

  it('joins the restriction in force when it warrants nothing stronger, whoever would approve it', () => {
    expect(weighFlag(inForce(), proposal(), now)).toEqual({ action: 'join' });
    expect(weighFlag(inForce(), proposal({ approval: 'ops', mode: 'notify', throttleFactor: null }), now)).toEqual({
      action: 'join',
    });
    const warning = inForce({ mode: 'notify', throttleFactor: null, expiresAt: at(1430) });
    expect(
      weighFlag(warning, proposal({ mode: 'notify', throttleFactor: null, durationSeconds: 86_400 }), now),
    ).toEqual({ action: 'join' });
  });

  it('escalates in place, never ending earlier than the restriction in force', () => {
    expect(weighFlag(inForce(), proposal({ mode: 'block', throttleFactor: null, durationSeconds: 3600 }), now)).toEqual(
      {
        action: 'escalate',
        expiresAt: at(60),
      },
    );
    expect(
      weighFlag(
        inForce({ expiresAt: at(1430) }),
        proposal({ mode: 'block', throttleFactor: null, durationSeconds: 600 }),
        now,
      ),
    ).toEqual({ action: 'escalate', expiresAt: at(1430) });
    expect(weighFlag(inForce(), proposal({ durationSeconds: 86_400 }), now)).toEqual({
      action: 'escalate',
      expiresAt: at(1440),
    });
  });

  it('gives a flag stronger than a warning its own restriction, and leaves an escalation ops must approve as a proposal', () => {
    const warning = inForce({ mode: 'notify', throttleFactor: null, expiresAt: at(1430) });
    expect(weighFlag(warning, proposal(), now)).toEqual({ action: 'apply' });
    expect(weighFlag(inForce(), proposal({ mode: 'block', throttleFactor: null, approval: 'ops' }), now)).toEqual({
      action: 'apply',
    });
  });
});
