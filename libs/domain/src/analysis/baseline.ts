import { type DetectionConfig } from './detection-config';
import { HOUR_MS } from './seasonality';

/** Robust statistics: one wild week (an incident, a missed exclusion) moves neither the centre nor the spread much. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median absolute deviation scaled by 1.4826, so it estimates the standard deviation of normal data. */
export function mad(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

/** One trained hour: its mean per-minute rate and its 90th-percentile minute. */
export interface HourSample {
  hour: number;
  perMinute: number;
  p90PerMinute: number;
}

export interface TimeRange {
  start: number;
  end: number;
}

export interface Band {
  /** Expected requests per minute in this slot. */
  centre: number;
  spread: number;
  lower: number;
  upper: number;
  /** Samples of the account's own data that trained it. */
  samples: number;
  /** Weight of the plan's prior in the centre: 1 for a new account, 0 once it has enough history. */
  priorWeight: number;
}

export interface BandInput {
  /** Candidate hours with their rates; hours without traffic must be present with zeros. */
  samples: readonly HourSample[];
  /** Hours before this instant do not count (the account did not exist). */
  since: number;
  /** Announced bursts and restricted periods: never training data. */
  exclusions: readonly TimeRange[];
  /** The plan's prior rate for a new account. */
  prior: number;
  config: DetectionConfig['baseline'];
}

function overlaps(hour: number, ranges: readonly TimeRange[]): boolean {
  return ranges.some((r) => r.start < hour + HOUR_MS && r.end > hour);
}

/**
 * The band of one slot. The account's own centre is the median of the usable samples, lifted to the median of the
 * most recent ones when those are higher (organic growth is not abuse); its spread is the MAD with floors, relative
 * (4 equal weeks give MAD 0) and Poisson (√centre: small counts are noisy). While the account has fewer than
 * `fullSamples` samples the plan's prior (centre = prior, spread = prior) weighs in with weight 1 − n/fullSamples:
 * it pulls the centre towards the prior and can only widen the band, never narrow it, so a new customer that is
 * busier than the plan's typical one is not flagged for being new.
 */
export function computeBand(input: BandInput): Band {
  const { config } = input;
  const usable = input.samples.filter((s) => s.hour >= input.since && !overlaps(s.hour, input.exclusions));
  const rates = usable.map((s) => s.perMinute);
  const recent = [...usable].sort((a, b) => b.hour - a.hour).slice(0, 3);
  const ownCentre = Math.max(median(rates), median(recent.map((s) => s.perMinute)));
  const ownSpread = Math.max(
    usable.length >= 3 ? mad(rates) : 0,
    config.minRelativeSpread * ownCentre,
    Math.sqrt(ownCentre),
  );
  const p90 = usable.length > 0 ? median(usable.map((s) => s.p90PerMinute)) * config.p90Margin : 0;
  const ownUpper = Math.max(ownCentre + config.k * ownSpread, p90);
  const priorWeight = Math.max(0, 1 - usable.length / config.fullSamples);
  const priorUpper = input.prior * (1 + config.k);
  const centre = priorWeight * input.prior + (1 - priorWeight) * ownCentre;
  const spread = priorWeight * input.prior + (1 - priorWeight) * ownSpread;
  return {
    centre,
    spread,
    lower: Math.max(0, centre - config.k * spread),
    upper: Math.max(ownUpper, priorWeight * priorUpper + (1 - priorWeight) * ownUpper),
    samples: usable.length,
    priorWeight,
  };
}
