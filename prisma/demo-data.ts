/**
 * Demo plans written from the five published policies in shared/seeds (see docs/policies.md for the mapping),
 * and demo accounts used by the README's run command and the traffic simulator.
 * Windows: { limit, seconds, aligned } — aligned windows reset on calendar boundaries (the top of the hour UTC).
 */
export interface DemoRule {
  name: string;
  scope: 'TOKEN' | 'ACCOUNT' | 'IP' | 'ROUTE' | 'PLAN';
  windows: { limit: number; seconds: number; aligned?: boolean }[];
  routes?: string[];
  concurrency?: number;
  cost?: number;
  failMode?: 'OPEN' | 'CLOSED' | 'LOCAL';
  countLimited?: boolean;
  cidrs?: string[];
  shadow?: boolean;
}

export interface DemoPlan {
  key: string;
  name: string;
  description: string;
  apiAccess: boolean;
  errorStyle: 'NESTJS' | 'DETAIL' | 'PROBLEM_JSON';
  limitStatusCode: number;
  priorPerMinute: number;
  rules: DemoRule[];
}

export const DEMO_PLANS: DemoPlan[] = [
  {
    key: 'kobble-reasonable-use',
    name: 'Kobble — reasonable use',
    description: 'Accept every request, monitor, restrict only sustained excess (seed 000).',
    apiAccess: true,
    errorStyle: 'NESTJS',
    limitStatusCode: 503,
    priorPerMinute: 30,
    rules: [],
  },
  {
    key: 'keebai-standard',
    name: 'Keebai — per token',
    description: '60 requests per minute and 1,000 per hour, per token, at once (seed 001).',
    apiAccess: true,
    errorStyle: 'NESTJS',
    limitStatusCode: 429,
    priorPerMinute: 10,
    rules: [
      {
        name: 'per-token',
        scope: 'TOKEN',
        windows: [
          { limit: 60, seconds: 60 },
          { limit: 1000, seconds: 3600 },
        ],
      },
    ],
  },
  {
    key: 'licensing-standard',
    name: 'License API — IP, token and critical endpoints',
    description: 'Per source IP, per token, and stricter limits on license validation and activation (seed 002).',
    apiAccess: true,
    errorStyle: 'NESTJS',
    limitStatusCode: 429,
    priorPerMinute: 20,
    rules: [
      { name: 'per-ip', scope: 'IP', windows: [{ limit: 300, seconds: 60 }] },
      { name: 'per-token', scope: 'TOKEN', windows: [{ limit: 600, seconds: 60 }] },
      {
        name: 'license-validation',
        scope: 'TOKEN',
        routes: ['POST /v1/licenses/validate', 'POST /v1/licenses/activate'],
        windows: [
          { limit: 30, seconds: 60 },
          { limit: 500, seconds: 3600 },
        ],
      },
    ],
  },
  {
    key: 'kinde-standard',
    name: 'Kinde — rate and concurrency limiters',
    description: 'Requests per minute per account plus a concurrency limiter; RateLimit-Reset header (seed 003).',
    apiAccess: true,
    errorStyle: 'NESTJS',
    limitStatusCode: 429,
    priorPerMinute: 20,
    rules: [{ name: 'per-account', scope: 'ACCOUNT', windows: [{ limit: 120, seconds: 60 }], concurrency: 10 }],
  },
  ...(
    [
      ['free', 'Free', false, 0],
      ['starter', 'Starter', false, 0],
      ['growth', 'Growth', true, 100],
      ['scale', 'Scale', true, 1000],
    ] as const
  ).map(([key, name, apiAccess, perHour]): DemoPlan => ({
    key: `klinky-${key}`,
    name: `Klinky ${name}`,
    description: apiAccess
      ? `${perHour} requests per hour per account across all keys; the window resets at the top of the hour UTC (seed 004).`
      : 'No API access: dashboard only (seed 004).',
    apiAccess,
    errorStyle: 'DETAIL',
    limitStatusCode: 429,
    priorPerMinute: perHour / 60,
    rules: apiAccess
      ? [{ name: 'per-account-hourly', scope: 'ACCOUNT', windows: [{ limit: perHour, seconds: 3600, aligned: true }] }]
      : [],
  })),
];

export interface DemoAccount {
  externalId: string;
  name: string;
  plan: string;
  contact: string;
  /** Deterministic demo secrets so the simulator and the README can use them; never do this for real accounts. */
  tokens: { name: string; secret: string }[];
  allowlisted?: boolean;
}

export const DEMO_ACCOUNTS: DemoAccount[] = [
  {
    externalId: 'acme',
    name: 'Acme Analytics',
    plan: 'kobble-reasonable-use',
    contact: 'ops@acme.example',
    tokens: [{ name: 'backend', secret: 'ug_demo_acme_backend_0000000000000000' }],
  },
  {
    externalId: 'globex',
    name: 'Globex (turns abusive)',
    plan: 'kobble-reasonable-use',
    contact: 'admin@globex.example',
    tokens: [{ name: 'sync', secret: 'ug_demo_globex_sync_00000000000000000' }],
  },
  {
    externalId: 'initech',
    name: 'Initech (announced burst)',
    plan: 'kobble-reasonable-use',
    contact: 'it@initech.example',
    tokens: [{ name: 'batch', secret: 'ug_demo_initech_batch_000000000000000' }],
  },
  {
    externalId: 'umbrella',
    name: 'Umbrella (lives at its limit)',
    plan: 'klinky-growth',
    contact: 'dev@umbrella.example',
    tokens: [{ name: 'app', secret: 'ug_demo_umbrella_app_0000000000000000' }],
  },
  {
    externalId: 'hooli',
    name: 'Hooli (leaked token)',
    plan: 'keebai-standard',
    contact: 'security@hooli.example',
    tokens: [{ name: 'crm', secret: 'ug_demo_hooli_crm_000000000000000000' }],
  },
  {
    externalId: 'soylent',
    name: 'Soylent (licensing)',
    plan: 'licensing-standard',
    contact: 'eng@soylent.example',
    tokens: [{ name: 'desktop', secret: 'ug_demo_soylent_desktop_0000000000000' }],
  },
];

export const DEMO_ADMIN = { email: 'admin@usageguard.local', name: 'Demo Admin' };
export const DEMO_INGEST_KEY = 'ug_ingest_demo_0000000000000000000000';
