import { matchCidr, parseCidr, type Cidr } from './network';

/**
 * The limiter's policy model: a plan's rules as the edge evaluates them. Built from Plan/LimitRule rows (or any
 * other source, for providers embedding the guard) by compilePolicy(); validated once, then read on every request.
 */
export type RuleScope = 'TOKEN' | 'ACCOUNT' | 'IP' | 'ROUTE' | 'PLAN';
export type FailMode = 'OPEN' | 'CLOSED' | 'LOCAL';
export type ErrorStyle = 'NESTJS' | 'DETAIL' | 'PROBLEM_JSON';

export interface LimitWindow {
  limit: number;
  seconds: number;
  /** Calendar-aligned: a fixed window that resets on UTC boundaries (the top of the hour); else a sliding window. */
  aligned: boolean;
}

export interface RouteMatcher {
  /** Upper-case method, or null for any method. */
  method: string | null;
  /** A route template (`/v1/licenses/:id`) or a prefix ending in `*`. */
  template: string;
}

export interface LimitRule {
  id: string;
  name: string;
  scope: RuleScope;
  /** Empty: every route. */
  routes: RouteMatcher[];
  /** Empty: every client. When set, the rule keys IP scope by the matched network, not the address. */
  cidrs: Cidr[];
  windows: LimitWindow[];
  cost: number;
  concurrency: number | null;
  failMode: FailMode;
  shadow: boolean;
  countLimited: boolean;
}

export interface PlanPolicy {
  id: string;
  key: string;
  name: string;
  apiAccess: boolean;
  errorStyle: ErrorStyle;
  limitStatusCode: number;
  /** Cold-start expected requests per minute; the base a throttle restriction scales when no rule applies. */
  priorPerMinute: number;
  version: number;
  rules: LimitRule[];
}

/** What the edge knows about one request when it picks the rules. */
export interface RequestFacts {
  accountId: string;
  tokenId: string | null;
  clientIp: string;
  method: string;
  /** The route template, e.g. `/v1/contacts/:id`. */
  route: string;
}

/** One rule that applies to a request: the key it counts under and the windows after any throttle. */
export interface ApplicableRule {
  rule: LimitRule;
  /** The value the rule counts per: a token id, the account id, an address or network, a route, the plan. */
  subject: string;
  windows: LimitWindow[];
}

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** The raw shape of a rule as stored (Prisma LimitRule) or written in configuration. */
export interface RawLimitRule {
  id?: string;
  name: string;
  scope: RuleScope;
  routes?: readonly string[];
  cidrs?: readonly string[];
  windows: unknown;
  cost?: number;
  concurrency?: number | null;
  failMode?: FailMode;
  shadow?: boolean;
  countLimited?: boolean;
  enabled?: boolean;
}

export interface RawPlan {
  id: string;
  key: string;
  name: string;
  apiAccess: boolean;
  errorStyle: ErrorStyle;
  limitStatusCode: number;
  priorPerMinute: number;
  version: number;
  rules: readonly RawLimitRule[];
}

const MAX_WINDOW_SECONDS = 31 * 86_400;

export function parseWindows(raw: unknown, rule: string): LimitWindow[] {
  if (!Array.isArray(raw)) throw new PolicyError(`rule ${rule}: windows must be an array`);
  return raw.map((w: unknown, i) => {
    const { limit, seconds, aligned } = (w ?? {}) as Record<string, unknown>;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
      throw new PolicyError(`rule ${rule}: windows[${i}].limit must be an integer ≥ 0`);
    }
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_WINDOW_SECONDS) {
      throw new PolicyError(`rule ${rule}: windows[${i}].seconds must be an integer from 1 to ${MAX_WINDOW_SECONDS}`);
    }
    if (aligned !== undefined && typeof aligned !== 'boolean') {
      throw new PolicyError(`rule ${rule}: windows[${i}].aligned must be a boolean`);
    }
    return { limit, seconds, aligned: aligned ?? false };
  });
}

export function parseRouteMatcher(raw: string): RouteMatcher {
  const parts = raw.trim().split(/\s+/);
  const [method, template] = parts.length === 2 ? [parts[0].toUpperCase(), parts[1]] : [null, parts[0]];
  if (!template?.startsWith('/')) throw new PolicyError(`route ${raw}: must be "[METHOD] /path"`);
  return { method: method === '*' ? null : method, template };
}

/** Validates a plan and its enabled rules once; the result is what the hot path reads. */
export function compilePolicy(plan: RawPlan): PlanPolicy {
  const rules = plan.rules
    .filter((r) => r.enabled !== false)
    .map((r): LimitRule => {
      const windows = parseWindows(r.windows, r.name);
      const cost = r.cost ?? 1;
      if (!Number.isInteger(cost) || cost < 0) throw new PolicyError(`rule ${r.name}: cost must be an integer ≥ 0`);
      const concurrency = r.concurrency ?? null;
      if (concurrency !== null && (!Number.isInteger(concurrency) || concurrency < 1)) {
        throw new PolicyError(`rule ${r.name}: concurrency must be an integer ≥ 1`);
      }
      if (windows.length === 0 && concurrency === null) {
        throw new PolicyError(`rule ${r.name}: needs at least one window or a concurrency limit`);
      }
      return {
        id: r.id ?? r.name,
        name: r.name,
        scope: r.scope,
        routes: (r.routes ?? []).map(parseRouteMatcher),
        cidrs: (r.cidrs ?? []).map(parseCidr),
        windows,
        cost,
        concurrency,
        failMode: r.failMode ?? 'OPEN',
        shadow: r.shadow ?? false,
        countLimited: r.countLimited ?? false,
      };
    });
  return {
    id: plan.id,
    key: plan.key,
    name: plan.name,
    apiAccess: plan.apiAccess,
    errorStyle: plan.errorStyle,
    limitStatusCode: plan.limitStatusCode,
    priorPerMinute: plan.priorPerMinute,
    version: plan.version,
    rules,
  };
}

export function routeMatches(matcher: RouteMatcher, method: string, route: string): boolean {
  if (matcher.method !== null && matcher.method !== method) return false;
  if (matcher.template.endsWith('*')) return route.startsWith(matcher.template.slice(0, -1));
  return matcher.template === route;
}

/**
 * The rules that apply to a request, each with its counting subject. A throttle restriction (0 < factor < 1)
 * scales every limit down, never below 1; when no rule applies it limits the account to its plan's prior rate.
 */
export function applicableRules(policy: PlanPolicy, facts: RequestFacts, throttleFactor?: number): ApplicableRule[] {
  const out: ApplicableRule[] = [];
  for (const rule of policy.rules) {
    if (rule.routes.length > 0 && !rule.routes.some((m) => routeMatches(m, facts.method, facts.route))) continue;
    let network: Cidr | undefined;
    if (rule.cidrs.length > 0) {
      network = rule.cidrs.find((c) => matchCidr(c, facts.clientIp));
      if (!network) continue;
    }
    const subject = subjectOf(rule.scope, policy, facts, network);
    if (subject === null) continue;
    out.push({ rule, subject, windows: throttleFactor ? throttle(rule.windows, throttleFactor) : rule.windows });
  }
  if (throttleFactor && out.length === 0) {
    out.push({
      rule: {
        id: 'restriction-throttle',
        name: 'restriction-throttle',
        scope: 'ACCOUNT',
        routes: [],
        cidrs: [],
        windows: [],
        cost: 1,
        concurrency: null,
        failMode: 'OPEN',
        shadow: false,
        countLimited: false,
      },
      subject: facts.accountId,
      windows: [
        { limit: Math.max(1, Math.floor(policy.priorPerMinute * throttleFactor)), seconds: 60, aligned: false },
      ],
    });
  }
  return out;
}

function throttle(windows: LimitWindow[], factor: number): LimitWindow[] {
  return windows.map((w) => ({ ...w, limit: Math.max(1, Math.floor(w.limit * factor)) }));
}

function subjectOf(scope: RuleScope, policy: PlanPolicy, facts: RequestFacts, network?: Cidr): string | null {
  switch (scope) {
    case 'TOKEN':
      return facts.tokenId;
    case 'ACCOUNT':
      return facts.accountId;
    case 'IP':
      return network ? network.text : facts.clientIp;
    case 'ROUTE':
      return `${facts.method} ${facts.route}`;
    case 'PLAN':
      return policy.id;
  }
}

/** Stable display name of one window in headers and problem bodies: `per-token;w=60`. */
export function windowName(rule: LimitRule, window: LimitWindow): string {
  return `${rule.name}-${window.seconds}s`;
}
