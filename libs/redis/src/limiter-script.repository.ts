import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { evaluateWindow } from '@usageguard/domain';
import { createHash } from 'node:crypto';
import { LIMITER_LUA } from './limiter.lua';
import type { PipelinedConnection, RedisReply } from './pipelined-connection';
import { RedisRepository } from './redis.repository';

export interface ScriptWindow {
  limit: number;
  seconds: number;
  aligned: boolean;
}

export interface ScriptRule {
  /** Hash of window counters; built with limiterKeys so a rule's keys share the account's hash slot. */
  key: string;
  leaseKey: string;
  cost: number;
  shadow: boolean;
  countLimited: boolean;
  /** 0: no concurrency limit. */
  concurrency: number;
  windows: ScriptWindow[];
}

export interface ScriptRequest {
  /** `peek` reports the state without consuming anything (Klinky's status endpoint). */
  mode: 'check' | 'peek';
  /** Overrides Redis's clock (tests only); 0 or absent: Redis TIME. */
  nowMs?: number;
  leaseId: string;
  leaseMs: number;
  rules: ScriptRule[];
}

export interface ScriptRuleResult {
  allowed: boolean;
  windowDenied: boolean;
  concurrencyDenied: boolean;
  /** null: the rule has no concurrency limit. */
  concurrencyRemaining: number | null;
  retryAfterMs: number;
  windows: { remaining: number; resetAtMs: number }[];
}

export interface ScriptResult {
  allowed: boolean;
  /** Index into the request's rules of the enforcing rule that denied, or -1. */
  deciding: number;
  nowMs: number;
  rules: ScriptRuleResult[];
}

/**
 * Redis key layout of the limiter. Every key of an account carries the account's hash tag `{<accountId>}`, so one
 * request's keys live in one Redis Cluster slot and one script can touch them all. PLAN-scope rules count across
 * accounts and are tagged by plan instead (cross-slot in a cluster: docs/limiter.md). A window key ends with the
 * rule's window signature (`60s.3600a`: lengths and alignment), so a rule whose windows change starts from fresh
 * state instead of reading counts laid out for other windows; a limit change keeps the key and its counts.
 */
export const limiterKeys = {
  windows: (prefix: string, tag: string, ruleId: string, subject: string, windows: readonly ScriptWindow[]) =>
    `${prefix}rl:{${tag}}:${ruleId}:${subject}:${windowSignature(windows)}`,
  leases: (prefix: string, tag: string, ruleId: string, subject: string) => `${prefix}cc:{${tag}}:${ruleId}:${subject}`,
};

const signatures = new WeakMap<readonly ScriptWindow[], string>();

export function windowSignature(windows: readonly ScriptWindow[]): string {
  let signature = signatures.get(windows);
  if (signature === undefined) {
    signature = windows.map((w) => `${w.seconds}${w.aligned ? 'a' : 's'}`).join('.');
    signatures.set(windows, signature);
  }
  return signature;
}

/** struct formats of the script's request by count of numbers ('<' little-endian, 'd' double). */
const formats: string[] = [];
const formatOf = (count: number): string => (formats[count] ??= `<${'d'.repeat(count)}`);
/** The script packs a rule's window count into 4 bits. */
const MAX_WINDOWS = 15;

/**
 * The limiter's door to Redis: one EVALSHA per decision on a dedicated pipelined connection (pipelined-connection.ts:
 * the decisions of one event-loop turn share a socket write) with tight timeouts, no offline queue and no retries,
 * so a Redis outage surfaces as a fast error the caller's fail modes handle, never as a queue of stalled requests.
 * The script is loaded by SHA; after a Redis restart (NOSCRIPT) it is sent once more in full.
 */
@Injectable()
export class LimiterScriptRepository implements OnModuleInit {
  readonly sha = createHash('sha1').update(LIMITER_LUA).digest('hex');
  readonly prefix: string;
  private readonly connection: PipelinedConnection;

  constructor(@Inject(RedisRepository) redis: RedisRepository, @Inject(APP_CONFIG) config: AppConfig) {
    this.prefix = redis.prefix;
    const timeout = config.edge.redisTimeoutMs;
    this.connection = redis.connectPipelined({
      commandTimeoutMs: timeout,
      connectTimeoutMs: Math.max(timeout * 4, 500),
      retryDelayMs: (attempt) => Math.min(50 * attempt, 500),
    });
  }

  /** Waits briefly for the connection so the first requests do not fail over needlessly; never fails boot. */
  async onModuleInit(): Promise<void> {
    await this.connection.waitReady(2_000);
    // Loaded ahead so the first requests do not pay for a NOSCRIPT round trip.
    await this.connection.call(['SCRIPT', 'LOAD', LIMITER_LUA]).catch(() => undefined);
  }

  async evaluate(request: ScriptRequest): Promise<ScriptResult> {
    const { rules } = request;
    if (rules.length === 0) throw new Error('the limiter script needs at least one rule');
    let count = 4;
    for (const rule of rules) {
      if (rule.windows.length > MAX_WINDOWS) throw new Error(`a rule has at most ${MAX_WINDOWS} windows`);
      count += 2 + 2 * rule.windows.length;
    }
    const spec = Buffer.allocUnsafe(count * 8);
    let o = spec.writeDoubleLE(request.mode === 'peek' ? 1 : 0, 0);
    o = spec.writeDoubleLE(request.nowMs ?? 0, o);
    o = spec.writeDoubleLE(request.leaseMs, o);
    o = spec.writeDoubleLE(rules.length, o);
    const keys: string[] = [];
    for (const rule of rules) {
      keys.push(rule.key);
      const flags = (rule.shadow ? 1 : 0) + (rule.countLimited ? 2 : 0);
      o = spec.writeDoubleLE(rule.cost, o);
      o = spec.writeDoubleLE(flags + 4 * rule.windows.length + 64 * rule.concurrency, o);
      for (const w of rule.windows) {
        o = spec.writeDoubleLE(w.limit, o);
        o = spec.writeDoubleLE(2 * w.seconds + (w.aligned ? 1 : 0), o);
      }
    }
    for (const rule of rules) if (rule.concurrency > 0) keys.push(rule.leaseKey);
    const args = [keys.length, ...keys, spec, formatOf(count), request.leaseId];
    let reply: RedisReply;
    try {
      reply = await this.connection.call(['EVALSHA', this.sha, ...args]);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      reply = await this.connection.call(['EVAL', LIMITER_LUA, ...args]);
    }
    return parseReply(reply as Reply, request);
  }

  /** Ends concurrency leases (request finished, aborted or timed out); keys of one account share a slot. */
  async release(leaseKeys: string[], leaseId: string): Promise<void> {
    if (leaseKeys.length === 0) return;
    // One command per key; issued together they leave in one write.
    await Promise.all(leaseKeys.map((key) => this.connection.call(['ZREM', key, leaseId])));
  }

  get status(): string {
    return this.connection.status;
  }
}

type Reply = (number | Buffer | null)[];

/**
 * Turns the script's reply into per-rule results. The script returns, per rule, the stored state it judged the
 * request on; remaining, reset and Retry-After come from window-math.ts applied to that state, so the maths lives in
 * one place and the figures agree with the script's decision by construction.
 */
function parseReply(reply: Reply, request: ScriptRequest): ScriptResult {
  const nowMs = reply[2] as number;
  const n = request.rules.length;
  const peek = request.mode === 'peek'; // peek judges a request of cost 0
  const rules: ScriptRuleResult[] = request.rules.map((rule, i) => {
    const flags = reply[3 + i] as number;
    const stored = reply[3 + n + i] as Buffer | null;
    const allowed = (flags & 1) === 1;
    const concurrencyDenied = (flags & 2) === 2;
    const ccCode = flags >> 2;
    const layoutFits = stored !== null && stored.length === 24 * rule.windows.length;
    let retryAfterMs = concurrencyDenied ? 1000 : 0;
    let windowDenied = false;
    const windows: ScriptRuleResult['windows'] = [];
    for (let j = 0; j < rule.windows.length; j++) {
      const state = layoutFits
        ? {
            bucket: stored.readDoubleLE(24 * j),
            cur: stored.readDoubleLE(24 * j + 8),
            prev: stored.readDoubleLE(24 * j + 16),
          }
        : undefined;
      const verdict = evaluateWindow(rule.windows[j], state, nowMs, peek ? 0 : rule.cost);
      if (!verdict.allowed) {
        windowDenied = true;
        retryAfterMs = Math.max(retryAfterMs, verdict.retryAfterMs);
      }
      windows.push({ remaining: verdict.remaining, resetAtMs: verdict.resetAtMs });
    }
    return {
      allowed,
      windowDenied,
      concurrencyDenied,
      concurrencyRemaining: ccCode === 0 ? null : ccCode - 1,
      retryAfterMs: allowed ? 0 : retryAfterMs,
      windows,
    };
  });
  return { allowed: reply[0] === 1, deciding: (reply[1] as number) - 1, nowMs, rules };
}
