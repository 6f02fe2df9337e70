import { type FlagKind } from '@usageguard/database';

/**
 * Seeded, labelled traffic scenarios for the detection benchmark (issue 5). Each scenario is one customer account
 * with a seasonal rhythm and, for most, one event in the labelled window; `expected` is the flag kind a correct
 * analyzer raises for it, or null when it must stay quiet. Everything derives from the seed: same seed, same data.
 */
export const SCENARIO_KINDS = [
  'steady',
  'daily-peak',
  'single-spike',
  'announced-burst',
  'exceeded-burst',
  'sustained-abuse',
  'slow-ramp',
  'new-account',
  'weekend-lull',
  'error-storm',
  'endpoint-hammering',
  'token-spread',
  'limit-pressure',
] as const;
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

export const EXPECTED: Record<ScenarioKind, FlagKind | null> = {
  steady: null,
  'daily-peak': null,
  'single-spike': null,
  'announced-burst': null,
  'exceeded-burst': 'SUSTAINED_EXCESS',
  'sustained-abuse': 'SUSTAINED_EXCESS',
  'slow-ramp': null,
  'new-account': null,
  'weekend-lull': null,
  'error-storm': 'ERROR_STORM',
  'endpoint-hammering': 'ENDPOINT_HAMMERING',
  'token-spread': 'TOKEN_SPREAD',
  'limit-pressure': 'LIMIT_PRESSURE',
};

export const DEFAULT_COUNTS: Record<ScenarioKind, number> = {
  steady: 6,
  'daily-peak': 6,
  'single-spike': 6,
  'announced-burst': 6,
  'exceeded-burst': 4,
  'sustained-abuse': 6,
  'slow-ramp': 4,
  'new-account': 4,
  'weekend-lull': 4,
  'error-storm': 4,
  'endpoint-hammering': 4,
  'token-spread': 4,
  'limit-pressure': 3,
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const MAIN_ROUTE = '/v1/items';
export const IMPORT_ROUTE = '/v1/import';
export const LICENSE_ROUTE = '/v1/licenses/validate';
export const LOGIN_ROUTE = '/v1/auth/login';

export interface Scenario {
  index: number;
  kind: ScenarioKind;
  expected: FlagKind | null;
  accountId: string;
  tokenId: string;
  createdAt: number;
  /** Requests per minute at the daily trough on a weekday, at `t0`. */
  base: number;
  peakHour: number;
  /** Extra multiple of base at the daily peak (0: flat). */
  amplitude: number;
  weekendFactor: number;
  /** Organic growth per day (slow ramps), compounding. */
  growthPerDay: number;
  /** Usual license validations per minute. */
  licensePerMinute: number;
  /** Share of requests refused at the plan limit, all along (limit pressure). */
  limitedShare: number;
  /** The labelled event: [start, end) and its size. */
  event: { start: number; end: number; factor: number } | null;
  /** The approved burst notice, if the customer announced one. */
  notice: { startsAt: number; endsAt: number; expectedPerMinute: number } | null;
  seed: number;
}

/** mulberry32: a small, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const uuid = (seed: number, i: number, kind: number): string =>
  `${(seed >>> 0).toString(16).padStart(8, '0')}-0000-4000-8${kind.toString(16).padStart(3, '0')}-${i.toString(16).padStart(12, '0')}`;

export interface ScenarioWindow {
  /** End of the labelled window (a whole hour); the analyzer runs up to here. */
  t0: number;
  /** Raw request logs (through the materialized views) cover [t0 - labelledHours, t0); rollups before that. */
  labelledHours: number;
  historyDays: number;
}

export function buildScenarios(
  seed: number,
  window: ScenarioWindow,
  counts: Partial<Record<ScenarioKind, number>> = DEFAULT_COUNTS,
): Scenario[] {
  const random = prng(seed);
  const between = (lo: number, hi: number) => lo + (hi - lo) * random();
  const { t0 } = window;
  const labelledStart = t0 - window.labelledHours * HOUR;
  const onset = labelledStart + HOUR; // an hour of normal traffic first: quiet cycles are judged too
  const scenarios: Scenario[] = [];
  let index = 0;
  for (const kind of SCENARIO_KINDS) {
    for (let n = 0; n < (counts[kind] ?? 0); n++, index++) {
      const s: Scenario = {
        index,
        kind,
        expected: EXPECTED[kind],
        accountId: uuid(seed, index, 1),
        tokenId: uuid(seed, index, 2),
        createdAt: t0 - (window.historyDays + 1) * DAY,
        base: Math.round(between(30, 90)),
        peakHour: Math.floor(between(0, 24)),
        amplitude: between(0, 0.3),
        weekendFactor: between(0.7, 1),
        growthPerDay: 0,
        licensePerMinute: 0,
        limitedShare: 0,
        event: null,
        notice: null,
        seed: Math.floor(random() * 2 ** 31),
      };
      const hourOfOnset = new Date(onset).getUTCHours();
      switch (kind) {
        case 'daily-peak':
          // The peak falls inside the labelled window: the band must expect it.
          s.amplitude = between(2, 4);
          s.peakHour = (hourOfOnset + Math.floor(between(0, 2))) % 24;
          break;
        case 'single-spike': {
          const start = onset + Math.floor(between(0, 60)) * MINUTE;
          s.event = { start, end: start + Math.floor(between(3, 9)) * MINUTE, factor: between(8, 25) };
          break;
        }
        case 'announced-burst': {
          const start = onset + Math.floor(between(0, 20)) * MINUTE;
          const factor = between(4, 10);
          s.event = { start, end: start + Math.floor(between(40, 70)) * MINUTE, factor };
          s.notice = {
            startsAt: start - 10 * MINUTE,
            endsAt: start + 90 * MINUTE,
            expectedPerMinute: Math.round(s.base * (1 + s.amplitude) * factor),
          };
          break;
        }
        case 'exceeded-burst': {
          const start = onset + Math.floor(between(0, 20)) * MINUTE;
          const announced = between(2, 3);
          s.event = { start, end: t0, factor: announced * between(3, 5) };
          s.notice = {
            startsAt: start - 10 * MINUTE,
            endsAt: t0 + HOUR,
            expectedPerMinute: Math.round(s.base * announced),
          };
          break;
        }
        case 'sustained-abuse':
          s.event = { start: onset + Math.floor(between(0, 30)) * MINUTE, end: t0, factor: between(3, 10) };
          break;
        case 'slow-ramp':
          s.growthPerDay = between(0.02, 0.035);
          break;
        case 'new-account':
          s.createdAt = t0 - Math.floor(between(20, 60)) * HOUR;
          s.base = Math.round(between(30, 120));
          break;
        case 'weekend-lull':
          s.weekendFactor = between(0.1, 0.3);
          break;
        case 'error-storm':
          s.event = { start: onset + Math.floor(between(0, 30)) * MINUTE, end: t0, factor: 0.3 };
          break;
        case 'endpoint-hammering':
          s.base = Math.round(between(250, 400));
          s.licensePerMinute = between(0.5, 2);
          s.event = { start: onset + Math.floor(between(0, 30)) * MINUTE, end: t0, factor: between(30, 60) };
          break;
        case 'token-spread':
          s.event = {
            start: onset + Math.floor(between(0, 30)) * MINUTE,
            end: t0,
            factor: Math.floor(between(80, 200)),
          };
          break;
        case 'limit-pressure':
          s.limitedShare = between(0.15, 0.3);
          break;
        case 'steady':
          break;
      }
      scenarios.push(s);
    }
  }
  return scenarios;
}

/** The customer's own (seasonal) traffic at minute t, requests per minute, before noise. */
export function organicRate(s: Scenario, t: number, t0: number): number {
  const d = new Date(t);
  const hour = d.getUTCHours() + d.getUTCMinutes() / 60;
  const distance = Math.min(Math.abs(hour - s.peakHour), 24 - Math.abs(hour - s.peakHour));
  const daily = 1 + s.amplitude * Math.exp(-(distance * distance) / (2 * 1.5 * 1.5));
  const day = d.getUTCDay();
  const weekly = day === 0 || day === 6 ? s.weekendFactor : 1;
  const growth = Math.pow(1 + s.growthPerDay, (t - t0) / DAY);
  return s.base * daily * weekly * growth;
}

/** Deterministic noise: approximately Poisson counts around `rate`, from a hash of (scenario, minute, stream). */
export function noisy(rate: number, s: Scenario, t: number, stream: number): number {
  const r = prng(s.seed ^ Math.floor(t / MINUTE) ^ (stream * 0x9e3779b9));
  const z = (r() + r() + r() + r() - 2) * Math.sqrt(3); // ≈ N(0, 1)
  return Math.max(0, Math.round(rate + Math.sqrt(rate) * z + rate * 0.05 * z));
}

export function inEvent(s: Scenario, t: number): boolean {
  return s.event !== null && t >= s.event.start && t < s.event.end;
}
