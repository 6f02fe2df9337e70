import { describe, expect, it } from 'vitest';
import { historyEvents } from './history';
import { activeBehaviour, liveRate, type Timeline } from './live';
import { normalRate, PERSONAS, poisson, random } from './personas';
import { parseRequestLogEvent } from '@usageguard/contracts';

const persona = (id: string) => PERSONAS.find((p) => p.externalId === id)!;
const timeline: Timeline = { abuseAfterS: 60, burstAfterS: 30, burstForS: 600, stuffingAfterS: 90 };

describe('simulator traffic model', () => {
  it('peaks at the persona peak hour and drops at night and at weekends', () => {
    const acme = persona('acme');
    const peak = normalRate(acme, new Date('2026-11-24T14:00:00Z')); // a Tuesday
    const night = normalRate(acme, new Date('2026-11-24T02:00:00Z'));
    const saturday = normalRate(acme, new Date('2026-11-28T14:00:00Z'));
    expect(peak).toBeCloseTo(acme.peakPerMinute, 5);
    expect(night).toBeLessThan(peak * 0.3);
    expect(saturday).toBeCloseTo(peak * acme.weekendShare, 5);
  });

  it('draws Poisson counts with the requested mean, the same for the same seed', () => {
    const draw = (seed: number) => {
      const rand = random(seed);
      return Array.from({ length: 20_000 }, () => poisson(3, rand));
    };
    const a = draw(7);
    expect(a).toEqual(draw(7));
    expect(a.reduce((s, x) => s + x, 0) / a.length).toBeCloseTo(3, 1);
    const large = Array.from(
      { length: 5_000 },
      (
        (rand) => () =>
          poisson(200, rand)
      )(random(1)),
    );
    expect(large.reduce((s, x) => s + x, 0) / large.length).toBeGreaterThan(195);
    expect(large.reduce((s, x) => s + x, 0) / large.length).toBeLessThan(205);
  });

  it('switches behaviours on at their moment and the burst off after its window', () => {
    const globex = persona('globex');
    const initech = persona('initech');
    const now = new Date('2026-11-24T15:00:00Z');
    expect(activeBehaviour(globex, 59, timeline)).toBe(false);
    expect(liveRate(globex, now, 61, timeline)).toBeCloseTo(
      Math.max(normalRate(globex, now) * globex.liveMultiplier!, globex.liveMinPerMinute!),
      5,
    );
    // At night, when 12× the normal rate is little, the abuse still runs at its floor.
    const night = new Date('2026-11-24T02:00:00Z');
    expect(liveRate(globex, night, 61, timeline)).toBe(globex.liveMinPerMinute);
    expect(activeBehaviour(initech, 29, timeline)).toBe(false);
    expect(activeBehaviour(initech, 30, timeline)).toBe(true);
    expect(activeBehaviour(initech, 630, timeline)).toBe(false);
    expect(liveRate(persona('umbrella'), now, 0, timeline)).toBe(20);
    expect(activeBehaviour(persona('acme'), 10_000, timeline)).toBe(false);
  });

  it('writes history as valid v1 events with route templates, limited beyond the hourly limit', () => {
    const umbrella = {
      ...persona('umbrella'),
      liveFixedPerMinute: undefined,
      peakPerMinute: 5,
      accountId: 'acct-u',
      tokenId: 'tok-u',
    };
    const events = [
      ...historyEvents(umbrella, {
        days: 1,
        until: new Date('2026-11-24T00:00:00Z'),
        seed: 1,
        batch: 1000,
        hourlyLimit: () => 100,
      }),
    ];
    expect(events.length).toBeGreaterThan(1000);
    for (const event of events.slice(0, 500)) expect(parseRequestLogEvent(event)).toMatchObject({ ok: true });
    expect(events.every((e) => e.accountId === 'acct-u' && !e.route.match(/\/\d+$/))).toBe(true);
    const byHour = new Map<string, { total: number; limited: number }>();
    for (const e of events) {
      const hour = e.ts.slice(0, 13);
      const h = byHour.get(hour) ?? { total: 0, limited: 0 };
      h.total++;
      if (e.decision === 'limited') h.limited++;
      byHour.set(hour, h);
    }
    for (const h of byHour.values()) expect(h.limited).toBe(Math.max(0, h.total - 100));
    expect([...byHour.values()].some((h) => h.limited > 0)).toBe(true);
  });
});
