import { DEMO_ACCOUNTS } from '../../../../prisma/demo-data';

/**
 * The demo's customers and how they use the API. Each persona has a normal, seasonal rate (requests per minute,
 * by hour of day and weekday/weekend) that the history backfill and the live traffic share, and, for some, a live
 * behaviour that departs from it: sustained abuse, an announced burst, life at the plan's limit, credential
 * stuffing. Everything is deterministic given a seed.
 */
export type Behaviour = 'normal' | 'abusive' | 'announced-burst' | 'at-limit' | 'credential-stuffing';

export interface RouteMix {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A concrete path; `{id}` is replaced by a random id. */
  path: string;
  weight: number;
}

export interface Persona {
  externalId: string;
  token: string;
  behaviour: Behaviour;
  /** Peak normal rate, requests per minute, at the busiest hour of a weekday. */
  peakPerMinute: number;
  /** Hour of day (UTC) of the peak. */
  peakHour: number;
  /** Weekend traffic as a share of weekday traffic. */
  weekendShare: number;
  routes: RouteMix[];
  /** Distinct client addresses the persona normally uses. */
  ips: number;
  /** Live rate while the behaviour is on, as a multiple of the normal rate (abuse, burst). */
  liveMultiplier?: number;
  /** Live rate in requests per minute regardless of the season (at-limit, stuffing). */
  liveFixedPerMinute?: number;
  /** While the behaviour is on, at least this many requests per minute, so it shows at any hour of the day. */
  liveMinPerMinute?: number;
  /** Resolved from the database at start: the ids the edge writes into request logs. */
  accountId?: string;
  tokenId?: string;
}

const token = (externalId: string): string => {
  const account = DEMO_ACCOUNTS.find((a) => a.externalId === externalId);
  if (!account) throw new Error(`no demo account ${externalId}`);
  return account.tokens[0].secret;
};

const readMostly: RouteMix[] = [
  { method: 'GET', path: '/v1/things/{id}', weight: 70 },
  { method: 'GET', path: '/v1/things', weight: 20 },
  { method: 'POST', path: '/v1/things', weight: 10 },
];

export const PERSONAS: Persona[] = [
  {
    externalId: 'acme',
    token: token('acme'),
    behaviour: 'normal',
    peakPerMinute: 30,
    peakHour: 14,
    weekendShare: 0.5,
    routes: readMostly,
    ips: 3,
  },
  {
    externalId: 'globex',
    token: token('globex'),
    behaviour: 'abusive',
    peakPerMinute: 20,
    peakHour: 15,
    weekendShare: 0.4,
    routes: [...readMostly, { method: 'POST', path: '/v1/things/bulk', weight: 5 }],
    ips: 2,
    liveMultiplier: 12,
    liveMinPerMinute: 300,
  },
  {
    externalId: 'initech',
    token: token('initech'),
    behaviour: 'announced-burst',
    peakPerMinute: 15,
    peakHour: 10,
    weekendShare: 0.3,
    routes: [
      { method: 'GET', path: '/v1/things/{id}', weight: 50 },
      { method: 'POST', path: '/v1/imports', weight: 50 },
    ],
    ips: 2,
    liveMultiplier: 12,
    liveMinPerMinute: 200,
  },
  {
    externalId: 'umbrella',
    token: token('umbrella'),
    behaviour: 'at-limit',
    peakPerMinute: 1.5,
    peakHour: 12,
    weekendShare: 0.8,
    routes: readMostly,
    ips: 1,
    // Klinky Growth allows 100 per hour: at 20 a minute the account reaches it within minutes of every hour and
    // lives at it (429s) for the rest of the hour.
    liveFixedPerMinute: 20,
  },
  {
    externalId: 'hooli',
    token: token('hooli'),
    behaviour: 'credential-stuffing',
    peakPerMinute: 10,
    peakHour: 16,
    weekendShare: 0.5,
    routes: readMostly,
    ips: 2,
    // Under Keebai's 60 per minute: the edge lets it through, the analyzer has to see it.
    liveFixedPerMinute: 50,
  },
  {
    externalId: 'soylent',
    token: token('soylent'),
    behaviour: 'normal',
    peakPerMinute: 15,
    peakHour: 9,
    weekendShare: 0.6,
    routes: [
      { method: 'POST', path: '/v1/licenses/validate', weight: 60 },
      { method: 'GET', path: '/v1/licenses/{id}', weight: 35 },
      { method: 'POST', path: '/v1/licenses/activate', weight: 5 },
    ],
    ips: 40,
  },
];

/** Normal rate at an instant: a smooth daily curve between 15% and 100% of the peak, lower at weekends. */
export function normalRate(persona: Persona, at: Date): number {
  const hour = at.getUTCHours() + at.getUTCMinutes() / 60;
  const distance = Math.min(Math.abs(hour - persona.peakHour), 24 - Math.abs(hour - persona.peakHour));
  const daily = 0.15 + 0.85 * Math.pow(Math.cos((Math.PI * distance) / 24), 4);
  const day = at.getUTCDay();
  const weekend = day === 0 || day === 6 ? persona.weekendShare : 1;
  return persona.peakPerMinute * daily * weekend;
}

/** A small, fast, seedable generator (mulberry32): the same seed gives the same traffic. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson-distributed count with the given mean (Knuth for small means, normal approximation above 50). */
export function poisson(mean: number, rand: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 50) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > limit);
  return k - 1;
}

export function pickRoute(persona: Persona, rand: () => number): { method: string; path: string } {
  const total = persona.routes.reduce((sum, r) => sum + r.weight, 0);
  let x = rand() * total;
  for (const route of persona.routes) {
    x -= route.weight;
    if (x <= 0)
      return { method: route.method, path: route.path.replace('{id}', String(1 + Math.floor(rand() * 5000))) };
  }
  const last = persona.routes[persona.routes.length - 1];
  return { method: last.method, path: last.path.replace('{id}', '1') };
}

/** A client address of the persona: a stable small pool, from a documentation range (RFC 5737). */
export function pickIp(persona: Persona, rand: () => number, pool = persona.ips): string {
  const index = Math.floor(rand() * pool);
  const personaIndex = PERSONAS.indexOf(persona) + 1;
  return `198.51.${(personaIndex * 16 + Math.floor(index / 250)) % 256}.${(index % 250) + 1}`;
}
