import path from 'node:path';
import { z } from 'zod';

/** Thrown at boot when the environment does not describe a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL (${protocols.join(' or ')})`,
  );
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * Every environment variable UsageGuard reads, with its default for the local stack. The README's configuration
 * table is this list.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.default(false),
  DATA_DIR: z.string().min(1).default('.data'),

  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgresql://postgres@127.0.0.1:5432/usageguard'),

  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379/0'),
  /** Prefixes every Redis key and channel, so several installations (or test runs) can share one Redis. */
  REDIS_PREFIX: z.string().default('ug:'),

  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().min(1).default('usageguard'),
  /** Prefixes every topic and consumer group name (test isolation, several environments on one cluster). */
  KAFKA_TOPIC_PREFIX: z.string().default(''),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(10).default(1),

  /** A ClickHouse server (http://host:8123). When unset, ClickHouse runs embedded through chDB at CHDB_PATH. */
  CLICKHOUSE_URL: url(['http:', 'https:']).optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
    .default('usageguard'),
  CHDB_PATH: z.string().optional(),
  /** Days of raw request logs kept in ClickHouse (rollups are kept longer). */
  CLICKHOUSE_RETENTION_DAYS: z.coerce.number().int().min(1).default(35),

  SMTP_URL: url(['smtp:', 'smtps:']).default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().min(3).default('UsageGuard <noreply@usageguard.local>'),

  EDGE_HOST: z.string().default('127.0.0.1'),
  EDGE_PORT: port.default(8080),
  EDGE_UPSTREAM_URL: url(['http:', 'https:']).default('http://127.0.0.1:8081'),
  /** Edge: /health and /metrics are served on this admin port; EDGE_PORT carries customer traffic only. */
  EDGE_ADMIN_PORT: port.default(8079),
  /** Edge: the limiter's Redis command timeout; past it the rule's fail mode decides. */
  EDGE_REDIS_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Edge: consecutive Redis failures that open the limiter's circuit, and how long it stays open. */
  EDGE_BREAKER_FAILURES: z.coerce.number().int().min(1).default(3),
  EDGE_BREAKER_OPEN_MS: z.coerce.number().int().min(10).default(1_000),
  /** Edge: the share of each limit one edge grants on its own (fail mode LOCAL) while Redis is away; 1/edges. */
  EDGE_LOCAL_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
  /** Edge: how long an API key's account and plan are cached; a revocation takes effect within this time. */
  EDGE_AUTH_CACHE_MS: z.coerce.number().int().min(0).default(3_000),
  /** Edge: a concurrency lease nobody released (a crashed edge) expires after this. */
  EDGE_LEASE_MS: z.coerce.number().int().min(100).default(60_000),
  EDGE_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Edge: the rate-limit status path answered by the edge itself without consuming a request (Klinky). */
  EDGE_STATUS_PATH: z.string().startsWith('/').default('/_usageguard/rate-limit'),
  /** Edge: extra route templates, comma-separated (`GET /v1/contacts/:id,...`), besides those the rules name. */
  EDGE_ROUTES: z.string().default(''),
  /** Edge: the error style for answers given before a plan is known (401 for an unknown key). */
  EDGE_ERROR_STYLE: z.enum(['NESTJS', 'DETAIL', 'PROBLEM_JSON']).default('NESTJS'),
  /** Edge: take the client IP from X-Forwarded-For (only behind a trusted load balancer). */
  EDGE_TRUST_PROXY: bool.default(false),
  INGEST_PORT: port.default(3001),
  ANALYZER_PORT: port.default(3002),
  ENFORCER_PORT: port.default(3003),
  DASHBOARD_PORT: port.default(3000),
  HTTP_HOST: z.string().default('127.0.0.1'),
  /** Set when the dashboard is served over HTTPS so session cookies are marked Secure. */
  COOKIE_SECURE: bool.default(false),
  /** The public URL of the dashboard, used in emails. */
  PUBLIC_URL: url(['http:', 'https:']).default('http://127.0.0.1:3000'),
  /**
   * Analyzer: shards each cycle is split into (one analyze-shard job each; set it to the number of analyzer workers
   * when scaled out, each shard is a scan), and seconds between cycles.
   */
  ANALYZER_SHARDS: z.coerce.number().int().min(1).max(256).default(1),
  ANALYZER_INTERVAL_SECONDS: z.coerce.number().int().min(10).default(60),
  /** Registers the repeatable analyze-cycle job at start-up (off in tests and one-off commands). */
  ANALYZER_SCHEDULE: bool.default(true),
  /** Password of the first admin made by the seed (local demo default; set it anywhere else). */
  USAGEGUARD_ADMIN_PASSWORD: z.string().min(8).default('usageguard-demo'),
});

type Raw = z.infer<typeof schema>;

export interface AppConfig {
  env: Raw['NODE_ENV'];
  log: { level: Raw['LOG_LEVEL']; pretty: boolean };
  dataDir: string;
  database: { url: string };
  redis: { url: string; prefix: string };
  kafka: {
    brokers: string[];
    clientId: string;
    topicPrefix: string;
    partitions: number;
    replicationFactor: number;
  };
  clickhouse: {
    /** Server URL, or undefined for embedded chDB. */
    url?: string;
    user: string;
    password: string;
    database: string;
    chdbPath: string;
    retentionDays: number;
  };
  mail: { smtpUrl: string; from: string };
  bootstrap: { adminPassword: string };
  analyzer: { shards: number; intervalSeconds: number; schedule: boolean };
  edge: {
    adminPort: number;
    redisTimeoutMs: number;
    breakerFailures: number;
    breakerOpenMs: number;
    localShare: number;
    authCacheMs: number;
    leaseMs: number;
    upstreamTimeoutMs: number;
    statusPath: string;
    routes: string[];
    errorStyle: 'NESTJS' | 'DETAIL' | 'PROBLEM_JSON';
    trustProxy: boolean;
  };
  http: {
    host: string;
    edge: { host: string; port: number; upstreamUrl: string };
    ports: { ingest: number; analyzer: number; enforcer: number; dashboard: number };
    cookieSecure: boolean;
    publicUrl: string;
  };
}

/** Validates the environment once. Throws ConfigError naming each bad variable; never falls back silently. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // Empty strings mean "unset", as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: issue.path.join('.') || '(root)', message: issue.message })),
    );
  }
  const c = parsed.data;
  return {
    env: c.NODE_ENV,
    log: { level: c.LOG_LEVEL, pretty: c.LOG_PRETTY },
    dataDir: c.DATA_DIR,
    database: { url: c.DATABASE_URL },
    redis: { url: c.REDIS_URL, prefix: c.REDIS_PREFIX },
    kafka: {
      brokers: c.KAFKA_BROKERS.split(',').map((b) => b.trim()),
      clientId: c.KAFKA_CLIENT_ID,
      topicPrefix: c.KAFKA_TOPIC_PREFIX,
      partitions: c.KAFKA_PARTITIONS,
      replicationFactor: c.KAFKA_REPLICATION_FACTOR,
    },
    clickhouse: {
      url: c.CLICKHOUSE_URL,
      user: c.CLICKHOUSE_USER,
      password: c.CLICKHOUSE_PASSWORD,
      database: c.CLICKHOUSE_DATABASE,
      chdbPath: path.resolve(c.CHDB_PATH ?? path.join(c.DATA_DIR, 'chdb')),
      retentionDays: c.CLICKHOUSE_RETENTION_DAYS,
    },
    mail: { smtpUrl: c.SMTP_URL, from: c.MAIL_FROM },
    bootstrap: { adminPassword: c.USAGEGUARD_ADMIN_PASSWORD },
    edge: {
      adminPort: c.EDGE_ADMIN_PORT,
      redisTimeoutMs: c.EDGE_REDIS_TIMEOUT_MS,
      breakerFailures: c.EDGE_BREAKER_FAILURES,
      breakerOpenMs: c.EDGE_BREAKER_OPEN_MS,
      localShare: c.EDGE_LOCAL_SHARE,
      authCacheMs: c.EDGE_AUTH_CACHE_MS,
      leaseMs: c.EDGE_LEASE_MS,
      upstreamTimeoutMs: c.EDGE_UPSTREAM_TIMEOUT_MS,
      statusPath: c.EDGE_STATUS_PATH,
      routes: c.EDGE_ROUTES.split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
      errorStyle: c.EDGE_ERROR_STYLE,
      trustProxy: c.EDGE_TRUST_PROXY,
    },
    analyzer: {
      shards: c.ANALYZER_SHARDS,
      intervalSeconds: c.ANALYZER_INTERVAL_SECONDS,
      schedule: c.ANALYZER_SCHEDULE,
    },
    http: {
      host: c.HTTP_HOST,
      edge: { host: c.EDGE_HOST, port: c.EDGE_PORT, upstreamUrl: c.EDGE_UPSTREAM_URL },
      ports: {
        ingest: c.INGEST_PORT,
        analyzer: c.ANALYZER_PORT,
        enforcer: c.ENFORCER_PORT,
        dashboard: c.DASHBOARD_PORT,
      },
      cookieSecure: c.COOKIE_SECURE,
      publicUrl: c.PUBLIC_URL,
    },
  };
}

/** The documented variables, for the README table and `usageguard config`. */
export const CONFIG_VARIABLES = Object.keys(schema.shape);
