import { type DetectionConfig } from './detection-config';

/** Flag kinds and severities, as in the Prisma schema (kept as literals so the domain has no database import). */
export type FindingKind = 'SUSTAINED_EXCESS' | 'LIMIT_PRESSURE' | 'ERROR_STORM' | 'ENDPOINT_HAMMERING' | 'TOKEN_SPREAD';
export type SeverityLevel = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export const SEVERITY_RANK: Record<SeverityLevel, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

export interface Finding {
  kind: FindingKind;
  severity: SeverityLevel;
  /** How far beyond normal, comparable within a kind (e.g. observed / expected). */
  score: number;
  summary: string;
  /** Rule-specific figures; the analyzer adds the series, band and top lists. */
  details: Record<string, unknown>;
}

/** One minute of the recent window, judged against its slot's band and any announced-burst envelope. */
export interface BandedMinute {
  minute: number;
  requests: number;
  centre: number;
  upper: number;
  /** Requests per minute an approved burst notice allows now, or null. */
  envelope: number | null;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Sustained excess: a large enough share of the window above the band and above an absolute floor, with enough
 * excess volume in total. A spike covers a few minutes and never reaches the share; an open flag stays open until
 * the share falls under closeShare (hysteresis), so a flag neither flaps nor fires on a spike.
 */
export function sustainedExcess(
  minutes: readonly BandedMinute[],
  config: DetectionConfig['sustainedExcess'],
  open: boolean,
): Finding | null {
  if (minutes.length === 0) return null;
  let over = 0;
  let excess = 0;
  let observed = 0;
  let expected = 0;
  let insideEnvelope = 0;
  for (const m of minutes) {
    observed += m.requests;
    expected += m.centre;
    const limit = Math.max(m.upper, config.floorPerMinute, m.envelope ?? 0);
    if (m.envelope !== null && m.requests > m.upper && m.requests <= m.envelope) insideEnvelope++;
    if (m.requests > limit) {
      over++;
      excess += m.requests - Math.max(m.upper, m.envelope ?? 0);
    }
  }
  const share = over / minutes.length;
  const fires = open ? share >= config.closeShare : share >= config.openShare && excess >= config.minExcessRequests;
  if (!fires) return null;
  const ratio = observed / Math.max(expected, 1);
  const severity: SeverityLevel = ratio >= 10 ? 'CRITICAL' : ratio >= 4 ? 'HIGH' : ratio >= 2 ? 'MEDIUM' : 'LOW';
  return {
    kind: 'SUSTAINED_EXCESS',
    severity,
    score: round(ratio),
    summary: `${over} of ${minutes.length} minutes above the usual band; ${Math.round(excess)} requests over it (${round(ratio, 1)}× expected)`,
    details: {
      overMinutes: over,
      windowMinutes: minutes.length,
      share: round(share, 3),
      excessRequests: Math.round(excess),
      observed,
      expected: Math.round(expected),
      minutesInsideBurstEnvelope: insideEnvelope,
      threshold: { openShare: config.openShare, closeShare: config.closeShare, floorPerMinute: config.floorPerMinute },
    },
  };
}

export interface LimitMinute {
  requests: number;
  limited: number;
}

/** An account persistently at its hard limit: an upgrade candidate, not abuse (always LOW). */
export function limitPressure(
  minutes: readonly LimitMinute[],
  config: DetectionConfig['limitPressure'],
  open: boolean,
): Finding | null {
  if (minutes.length === 0) return null;
  const requests = minutes.reduce((s, m) => s + m.requests, 0);
  const limited = minutes.reduce((s, m) => s + m.limited, 0);
  const share = minutes.filter((m) => m.limited > 0).length / minutes.length;
  const ratio = requests > 0 ? limited / requests : 0;
  const minShare = open ? config.minShare / 2 : config.minShare;
  if (share < minShare || ratio < config.minLimitedRatio || requests < config.minRequests) return null;
  return {
    kind: 'LIMIT_PRESSURE',
    severity: 'LOW',
    score: round(share, 3),
    summary: `limited in ${Math.round(share * 100)}% of minutes (${Math.round(ratio * 100)}% of requests): an upgrade candidate`,
    details: { share: round(share, 3), limitedRatio: round(ratio, 3), limited, requests, threshold: config },
  };
}

export interface AuthWindow {
  requests: number;
  authFailures: number;
  /** The account's usual 401/403 share (trailing history). */
  normalRatio: number;
}

/** 401/403 far above the account's normal share: credential stuffing or a broken client hammering with a bad key. */
export function errorStorm(w: AuthWindow, config: DetectionConfig['errorStorm'], open: boolean): Finding | null {
  if (w.requests === 0) return null;
  const ratio = w.authFailures / w.requests;
  const minRatio = open ? config.minRatio / 2 : config.minRatio;
  const needed = Math.max(minRatio, config.multiplier * w.normalRatio);
  if (ratio < needed || w.authFailures < (open ? config.minAuthFailures / 2 : config.minAuthFailures)) return null;
  return {
    kind: 'ERROR_STORM',
    severity: ratio >= 0.8 ? 'HIGH' : 'MEDIUM',
    score: round(ratio / Math.max(w.normalRatio, 0.01)),
    summary: `${Math.round(ratio * 100)}% of requests failed authentication (normally ${round(w.normalRatio * 100, 1)}%)`,
    details: {
      authFailures: w.authFailures,
      requests: w.requests,
      ratio: round(ratio, 3),
      normalRatio: round(w.normalRatio, 4),
      threshold: { ratio: round(needed, 3), minAuthFailures: config.minAuthFailures },
    },
  };
}

export interface RouteWindow {
  route: string;
  /** Per-minute requests over the window. */
  perMinute: readonly number[];
  /** The route's usual per-minute rate in this slot. */
  normalPerMinute: number;
  /** Requests per minute an approved burst notice allows on this route now, or null. */
  envelope: number | null;
}

/** A sensitive route (license validation/activation, login) far above its normal rate for most of the window. */
export function endpointHammering(
  routes: readonly RouteWindow[],
  config: DetectionConfig['endpointHammering'],
  share: { openShare: number; closeShare: number },
  open: boolean,
): Finding | null {
  let worst: { route: RouteWindow; share: number; rate: number; threshold: number } | null = null;
  for (const route of routes) {
    if (route.perMinute.length === 0) continue;
    const threshold = Math.max(config.minPerMinute, config.multiplier * route.normalPerMinute, route.envelope ?? 0);
    const over = route.perMinute.filter((v) => v > threshold).length / route.perMinute.length;
    const rate = route.perMinute.reduce((s, v) => s + v, 0) / route.perMinute.length;
    if (over >= (open ? share.closeShare : share.openShare) && (!worst || rate > worst.rate)) {
      worst = { route, share: over, rate, threshold };
    }
  }
  if (!worst) return null;
  const factor = worst.rate / Math.max(worst.route.normalPerMinute, 1);
  return {
    kind: 'ENDPOINT_HAMMERING',
    severity: factor >= 20 ? 'HIGH' : 'MEDIUM',
    score: round(factor),
    summary: `${worst.route.route} at ${round(worst.rate, 1)}/min, ${round(factor, 1)}× its usual ${round(worst.route.normalPerMinute, 1)}/min`,
    details: {
      route: worst.route.route,
      perMinute: round(worst.rate, 2),
      normalPerMinute: round(worst.route.normalPerMinute, 2),
      share: round(worst.share, 3),
      threshold: round(worst.threshold, 2),
    },
  };
}

export interface TokenIps {
  tokenId: string;
  /** Distinct client IPs over the window. */
  ips: number;
  /** The token's usual distinct IPs per hour (trailing history). */
  normalIps: number;
}

/** One token used from unusually many IPs: a leaked key, or a key shared far beyond its purpose. */
export function tokenSpread(
  tokens: readonly TokenIps[],
  config: DetectionConfig['tokenSpread'],
  open: boolean,
): Finding | null {
  let worst: { token: TokenIps; threshold: number } | null = null;
  for (const token of tokens) {
    const threshold = Math.max(
      open ? config.minIps / 2 : config.minIps,
      config.multiplier * Math.max(token.normalIps, 1),
    );
    if (token.ips >= threshold && (!worst || token.ips > worst.token.ips)) worst = { token, threshold };
  }
  if (!worst) return null;
  const factor = worst.token.ips / Math.max(worst.token.normalIps, 1);
  return {
    kind: 'TOKEN_SPREAD',
    severity: factor >= 20 ? 'HIGH' : 'MEDIUM',
    score: round(factor),
    summary: `token ${worst.token.tokenId} used from ${worst.token.ips} IPs (usually ${round(worst.token.normalIps, 1)} per hour)`,
    details: {
      tokenId: worst.token.tokenId,
      ips: worst.token.ips,
      normalIps: worst.token.normalIps,
      threshold: worst.threshold,
    },
  };
}
