import { describe, expect, it } from 'vitest';
import { computeBand, mad, median, type HourSample } from './baseline';
import { DEFAULT_DETECTION_CONFIG } from './detection-config';
import { HOUR_MS } from './seasonality';

const config = DEFAULT_DETECTION_CONFIG.baseline;
const NOW = Date.UTC(2026, 10, 23, 12);
const sample = (hoursAgo: number, perMinute: number, p90 = perMinute): HourSample => ({
  hour: NOW - hoursAgo * HOUR_MS,
  perMinute,
  p90PerMinute: p90,
});

describe('robust statistics', () => {
  it('median of odd, even and empty lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  it('MAD ignores one wild value and scales to a standard deviation', () => {
    expect(mad([10, 10, 10, 10, 1000])).toBe(0);
    expect(mad([1, 2, 3, 4, 5])).toBeCloseTo(1.4826);
    expect(mad([])).toBe(0);
  });
});

describe('computeBand', () => {
  const steady = [168, 336, 504, 672, 24, 48, 72].map((h) => sample(h, 100, 120));

  it('centres an established account on its own median with a band of k spreads', () => {
    const band = computeBand({ samples: steady, since: 0, exclusions: [], prior: 5, config });
    expect(band.priorWeight).toBe(0);
    expect(band.samples).toBe(7);
    expect(band.centre).toBe(100);
    // MAD 0: the relative floor (15 %) sets the spread; p90 × 1.5 = 180 < 100 + 4 × 15 = 160? no: 180 wins.
    expect(band.spread).toBe(15);
    expect(band.upper).toBe(180);
    expect(band.lower).toBe(40);
  });

  it('one incident week moves neither the centre nor the upper bound much', () => {
    const withIncident = [...steady.slice(1), sample(168, 5000, 6000)];
    const band = computeBand({ samples: withIncident, since: 0, exclusions: [], prior: 5, config });
    expect(band.centre).toBe(100);
    expect(band.upper).toBeLessThan(200);
  });

  it('excludes announced bursts and restricted periods from training', () => {
    const burst = [...steady.slice(0, 6), sample(72, 5000, 5000), sample(96, 5000, 5000), sample(120, 5000, 5000)];
    const exclusions = [{ start: NOW - 121 * HOUR_MS, end: NOW - 71 * HOUR_MS }];
    const band = computeBand({ samples: burst, since: 0, exclusions, prior: 5, config });
    expect(band.samples).toBe(6);
    expect(band.centre).toBe(100);
  });

  it('a new account starts from the plan prior and moves to its own data as it accrues', () => {
    const none = computeBand({ samples: steady, since: NOW, exclusions: [], prior: 30, config });
    expect(none.priorWeight).toBe(1);
    expect(none.centre).toBe(30);
    expect(none.upper).toBe(30 * 5);
    const some = computeBand({ samples: steady, since: NOW - 73 * HOUR_MS, exclusions: [], prior: 30, config });
    expect(some.samples).toBe(3);
    expect(some.priorWeight).toBe(0.5);
    expect(some.centre).toBe(65);
    expect(some.upper).toBe(180); // own data already wider than the prior
    const full = computeBand({ samples: steady, since: 0, exclusions: [], prior: 30, config });
    expect(full.centre).toBe(100);
  });

  it('the prior only widens a young band: a busy new customer is not flagged for being new', () => {
    const young = [24, 48].map((h) => sample(h, 10));
    const band = computeBand({ samples: young, since: NOW - 50 * HOUR_MS, exclusions: [], prior: 30, config });
    expect(band.priorWeight).toBeCloseTo(2 / 3);
    // own upper: 10 + 4 × √10 ≈ 22.6; prior upper 150; two thirds of the way to the prior.
    expect(band.upper).toBeCloseTo((2 / 3) * 150 + (1 / 3) * (10 + 4 * Math.sqrt(10)));
    const busy = [24, 48].map((h) => sample(h, 500));
    expect(computeBand({ samples: busy, since: NOW - 50 * HOUR_MS, exclusions: [], prior: 30, config }).upper).toBe(
      500 + 4 * 75,
    );
  });

  it('follows organic growth: the most recent samples lift the centre', () => {
    const growing = [
      sample(672, 50),
      sample(504, 60),
      sample(336, 70),
      sample(168, 90),
      sample(24, 120),
      sample(48, 115),
    ];
    const band = computeBand({ samples: growing, since: 0, exclusions: [], prior: 5, config });
    expect(band.centre).toBe(115);
  });

  it('keeps a Poisson floor on the spread for small rates', () => {
    const small = [168, 336, 504, 672, 24, 48].map((h) => sample(h, 4));
    const band = computeBand({ samples: small, since: 0, exclusions: [], prior: 1, config });
    expect(band.spread).toBe(2);
    expect(band.upper).toBe(12);
  });

  it('hours without traffic count as zero-rate samples, not as missing', () => {
    const lull = [168, 336, 504, 672, 24, 48].map((h) => sample(h, 0));
    const band = computeBand({ samples: lull, since: 0, exclusions: [], prior: 50, config });
    expect(band.centre).toBe(0);
    expect(band.upper).toBe(0);
  });
});
