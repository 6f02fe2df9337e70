import { STATUS_CODES } from 'node:http';
import { type LimitDecision, violatedRules } from './decision';
import { type ErrorStyle, windowName } from './policy';

/**
 * What a client sees: rate-limit headers and error bodies in the style its plan promises (seeds 001, 003, 004).
 * Pure: the gateway and the Nest guard both write what these return.
 */
export interface RenderedError {
  status: number;
  contentType: string;
  body: string;
  headers: Record<string, string>;
}

/** The window with the least left (ties: the one that resets last) among the enforcing rules. */
export function primaryWindow(decision: LimitDecision) {
  let best: { name: string; limit: number; remaining: number; resetAtMs: number } | undefined;
  for (const r of decision.rules) {
    if (r.applicable.rule.shadow) continue;
    for (const w of r.windows) {
      if (!best || w.remaining < best.remaining || (w.remaining === best.remaining && w.resetAtMs > best.resetAtMs)) {
        best = {
          name: windowName(r.applicable.rule, w.window),
          limit: w.window.limit,
          remaining: w.remaining,
          resetAtMs: w.resetAtMs,
        };
      }
    }
  }
  return best;
}

/**
 * X-RateLimit-Limit/Remaining/Reset (Reset as a Unix timestamp, Klinky), RateLimit-Reset (seconds, Kinde), and the
 * IETF draft structured fields RateLimit-Policy (every enforcing window) and RateLimit (what is left in each).
 */
export function rateLimitHeaders(decision: LimitDecision): Record<string, string> {
  const primary = primaryWindow(decision);
  if (!primary) return {};
  const seconds = (atMs: number) => Math.max(0, Math.ceil((atMs - decision.nowMs) / 1000));
  const policies: string[] = [];
  const states: string[] = [];
  for (const r of decision.rules) {
    if (r.applicable.rule.shadow) continue;
    for (const w of r.windows) {
      const name = windowName(r.applicable.rule, w.window);
      policies.push(`"${name}";q=${w.window.limit};w=${w.window.seconds}`);
      states.push(`"${name}";r=${w.remaining};t=${seconds(w.resetAtMs)}`);
    }
  }
  const headers: Record<string, string> = {
    'x-ratelimit-limit': String(primary.limit),
    'x-ratelimit-remaining': String(primary.remaining),
    'x-ratelimit-reset': String(Math.ceil(primary.resetAtMs / 1000)),
    'ratelimit-reset': String(seconds(primary.resetAtMs)),
    'ratelimit-policy': policies.join(', '),
    ratelimit: states.join(', '),
  };
  if (!decision.allowed) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
    // The rule that decided, so a client (and support) can tell which of several limits it hit.
    if (decision.decidingRule) headers['x-ratelimit-rule'] = decision.decidingRule.name;
  }
  return headers;
}

const LIMIT_MESSAGES: Record<ErrorStyle, string> = {
  // NestJS's ThrottlerException text, what Keebai documents for its 429.
  NESTJS: 'ThrottlerException: Too Many Requests',
  // Klinky's documented body.
  DETAIL: 'Rate limit exceeded. Please try again later.',
  PROBLEM_JSON: 'The request exceeds one or more rate-limit policies.',
};

/** An error in the plan's style: NestJS `{message, error, statusCode}`, `{detail}`, or RFC 9457 problem+json. */
export function renderError(
  style: ErrorStyle,
  status: number,
  message: string,
  extra: {
    code?: string;
    requestId?: string;
    headers?: Record<string, string>;
    problem?: Record<string, unknown>;
  } = {},
): RenderedError {
  const title = STATUS_CODES[status] ?? 'Error';
  const headers = extra.headers ?? {};
  if (style === 'DETAIL') {
    const body = { detail: message, ...(extra.code ? { code: extra.code } : {}) };
    return { status, contentType: 'application/json', body: JSON.stringify(body), headers };
  }
  if (style === 'PROBLEM_JSON') {
    const body = {
      type: `https://usageguard.dev/problems/${extra.code ?? slug(title)}`,
      title,
      status,
      detail: message,
      ...(extra.requestId ? { instance: `urn:request:${extra.requestId}` } : {}),
      ...extra.problem,
    };
    return { status, contentType: 'application/problem+json', body: JSON.stringify(body), headers };
  }
  const body = {
    message,
    error: title,
    statusCode: status,
    ...(extra.code ? { code: extra.code } : {}),
    ...(extra.requestId ? { requestId: extra.requestId } : {}),
  };
  return { status, contentType: 'application/json', body: JSON.stringify(body), headers };
}

/** The answer to a request the limiter denied. */
export function renderLimited(
  style: ErrorStyle,
  status: number,
  decision: LimitDecision,
  requestId?: string,
): RenderedError {
  const headers = rateLimitHeaders(decision);
  headers['retry-after'] ??= String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  const violated = violatedRules(decision).map((r) => ({
    rule: r.applicable.rule.name,
    scope: r.applicable.rule.scope,
    windows: r.windows.map((w) => ({
      name: windowName(r.applicable.rule, w.window),
      limit: w.window.limit,
      seconds: w.window.seconds,
      remaining: w.remaining,
      reset: Math.max(0, Math.ceil((w.resetAtMs - decision.nowMs) / 1000)),
    })),
    ...(r.concurrencyRemaining !== null ? { concurrency: r.applicable.rule.concurrency } : {}),
  }));
  const message =
    decision.reason === 'unavailable'
      ? 'Rate limiting is temporarily unavailable. Please try again shortly.'
      : LIMIT_MESSAGES[style];
  return renderError(style, status, message, {
    code: decision.reason === 'unavailable' ? 'limiter_unavailable' : 'rate_limited',
    requestId: style === 'PROBLEM_JSON' ? requestId : undefined,
    headers,
    problem: { violated_policies: violated, retry_after: Number(headers['retry-after']) },
  });
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}
