import { describe, expect, it } from 'vitest';
import { allowAll, type LimitDecision } from './decision';
import { applicableRules, compilePolicy } from './policy';
import { rateLimitHeaders, renderError, renderLimited } from './responses';

const NOW = Date.UTC(2026, 0, 15, 10, 15, 0);
const policy = compilePolicy({
  id: 'p',
  key: 'p',
  name: 'p',
  apiAccess: true,
  errorStyle: 'NESTJS',
  limitStatusCode: 429,
  priorPerMinute: 1,
  version: 1,
  rules: [
    {
      name: 'per-token',
      scope: 'TOKEN',
      windows: [
        { limit: 60, seconds: 60 },
        { limit: 1000, seconds: 3600 },
      ],
    },
    { name: 'shadow', scope: 'TOKEN', windows: [{ limit: 1, seconds: 60 }], shadow: true },
  ],
});
const [tokenRule, shadowRule] = applicableRules(policy, {
  accountId: 'a',
  tokenId: 't',
  clientIp: '1.1.1.1',
  method: 'GET',
  route: '/',
});

function decision(allowed: boolean): LimitDecision {
  const d = allowAll(NOW, 'redis', [
    {
      applicable: tokenRule,
      allowed,
      windows: [
        { window: tokenRule.windows[0], remaining: allowed ? 12 : 0, resetAtMs: NOW + 90_000 },
        { window: tokenRule.windows[1], remaining: 400, resetAtMs: NOW + 3_600_000 },
      ],
      concurrencyRemaining: null,
      retryAfterMs: allowed ? 0 : 1500,
    },
    {
      applicable: shadowRule,
      allowed: false,
      windows: [{ window: shadowRule.windows[0], remaining: 0, resetAtMs: NOW + 60_000 }],
      concurrencyRemaining: null,
      retryAfterMs: 0,
    },
  ]);
  if (!allowed)
    Object.assign(d, { allowed: false, decidingRule: tokenRule.rule, reason: 'window', retryAfterMs: 1500 });
  return d;
}

describe('rate-limit headers', () => {
  it('report the most constraining enforcing window and every policy (IETF draft fields)', () => {
    const h = rateLimitHeaders(decision(true));
    expect(h).toEqual({
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '12',
      'x-ratelimit-reset': String((NOW + 90_000) / 1000),
      'ratelimit-reset': '90',
      'ratelimit-policy': '"per-token-60s";q=60;w=60, "per-token-3600s";q=1000;w=3600',
      ratelimit: '"per-token-60s";r=12;t=90, "per-token-3600s";r=400;t=3600',
    });
  });

  it('add Retry-After (whole seconds, rounded up) when denied', () => {
    expect(rateLimitHeaders(decision(false))['retry-after']).toBe('2');
    expect(rateLimitHeaders(decision(false))['x-ratelimit-rule']).toBe('per-token');
  });

  it('are empty when no rule applies', () => {
    expect(rateLimitHeaders(allowAll(NOW, 'redis'))).toEqual({});
  });
});

describe('error bodies per policy', () => {
  it('Keebai: NestJS ThrottlerException shape', () => {
    const r = renderLimited('NESTJS', 429, decision(false));
    expect(r.status).toBe(429);
    expect(r.contentType).toBe('application/json');
    expect(JSON.parse(r.body)).toMatchObject({
      message: 'ThrottlerException: Too Many Requests',
      error: 'Too Many Requests',
      statusCode: 429,
    });
    expect(r.headers['retry-after']).toBe('2');
  });

  it('Klinky: {"detail": ...}', () => {
    const r = renderLimited('DETAIL', 429, decision(false));
    expect(JSON.parse(r.body)).toEqual({
      detail: 'Rate limit exceeded. Please try again later.',
      code: 'rate_limited',
    });
  });

  it('problem+json lists the violated policies, not shadow ones', () => {
    const r = renderLimited('PROBLEM_JSON', 429, decision(false), 'req-1');
    expect(r.contentType).toBe('application/problem+json');
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({
      title: 'Too Many Requests',
      status: 429,
      instance: 'urn:request:req-1',
      retry_after: 2,
    });
    expect(body.violated_policies).toEqual([
      {
        rule: 'per-token',
        scope: 'TOKEN',
        windows: [
          { name: 'per-token-60s', limit: 60, seconds: 60, remaining: 0, reset: 90 },
          { name: 'per-token-3600s', limit: 1000, seconds: 3600, remaining: 400, reset: 3600 },
        ],
      },
    ]);
  });

  it('renders 401/403 in the NestJS shape with a code', () => {
    const r = renderError('NESTJS', 403, 'API access is not included in the Free plan.', { code: 'no_api_access' });
    expect(JSON.parse(r.body)).toEqual({
      message: 'API access is not included in the Free plan.',
      error: 'Forbidden',
      statusCode: 403,
      code: 'no_api_access',
    });
  });
});
