import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { evaluateWindow } from '@usageguard/domain';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LIMITER_LUA } from './limiter.lua';
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
 * accounts and are tagged by plan instead (cross-slot in a cluster: docs/limiter.md).
 */
export const limiterKeys = {
  windows: (prefix: string, tag: string, ruleId: string, subject: string) =>
    `${prefix}rl:{${tag}}:${ruleId}:${subject}`,
  leases: (prefix: string, tag: string, ruleId: string, subject: string) => `${prefix}cc:{${tag}}:${ruleId}:${subject}`,
};

/**
 * The limiter's door to Redis: one EVALSHA per decision on a dedicated connection with tight timeouts, no offline
 * queue and no retries, so a Redis outage surfaces as a fast error the caller's fail modes handle, never as a queue
 * of stalled requests. The script is loaded by SHA; after a Redis restart (NOSCRIPT) it is sent once more in full.
 */
@Injectable()
export class LimiterScriptRepository implements OnModuleInit {
  readonly sha = createHash('sha1').update(LIMITER_LUA).digest('hex');
  readonly prefix: string;
  private readonly connection: Redis;

  constructor(@Inject(RedisRepository) redis: RedisRepository, @Inject(APP_CONFIG) config: AppConfig) {
    this.prefix = redis.prefix;
    const timeout = config.edge.redisTimeoutMs;
    this.connection = redis.connect({
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: timeout,
      connectTimeout: Math.max(timeout * 4, 500),
      retryStrategy: (times) => Math.min(50 * times, 500),
    });
  }

  /** Waits briefly for the connection so the first requests do not fail over needlessly; never fails boot. */
  async onModuleInit(): Promise<void> {
    if (this.connection.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        this.connection.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    // Loaded ahead so the first requests do not pay for a NOSCRIPT round trip.
    await this.connection.script('LOAD', LIMITER_LUA).catch(() => undefined);
  }

  async evaluate(request: ScriptRequest): Promise<ScriptResult> {
    const keys: string[] = [];
    const spec: (string | number)[] = [];
    for (const rule of request.rules) {
      keys.push(rule.key, rule.leaseKey);
      spec.push(rule.cost, rule.shadow ? 1 : 0, rule.countLimited ? 1 : 0, rule.concurrency, rule.windows.length);
      for (const w of rule.windows) spec.push(w.limit, w.seconds, w.aligned ? 1 : 0);
    }
    const args = [
      request.mode === 'peek' ? 'p' : 'c',
      request.nowMs ?? 0,
      request.leaseId,
      request.leaseMs,
      request.rules.length,
      spec.join(' '),
    ];
    let reply: number[];
    try {
      reply = (await this.connection.evalsha(this.sha, keys.length, ...keys, ...args)) as number[];
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      reply = (await this.connection.eval(LIMITER_LUA, keys.length, ...keys, ...args)) as number[];
    }
    return parseReply(reply, request);
  }

  /** Ends concurrency leases (request finished, aborted or timed out); keys of one account share a slot. */
  async release(leaseKeys: string[], leaseId: string): Promise<void> {
    if (leaseKeys.length === 0) return;
    const pipeline = this.connection.pipeline();
    for (const key of leaseKeys) pipeline.zrem(key, leaseId);
    await pipeline.exec();
  }

  get status(): string {
    return this.connection.status;
  }
}

/**
 * Turns the script's reply into per-rule results. The script returns, per window, the state it judged the request
 * on; remaining, reset and Retry-After come from window-math.ts applied to that state, so the maths lives in one
 * place and the figures agree with the script's decision by construction.
 */
function parseReply(reply: number[], request: ScriptRequest): ScriptResult {
  const nowMs = reply[2];
  let p = 3;
  const rules: ScriptRuleResult[] = request.rules.map((rule) => {
    const [allowed, windowDenied, ccDenied, ccRemaining, windowCount] = reply.slice(p, p + 5);
    p += 5;
    const cost = request.mode === 'peek' ? 0 : rule.cost;
    let retryAfterMs = ccDenied === 1 ? 1000 : 0;
    const windows: ScriptRuleResult['windows'] = [];
    for (let j = 0; j < windowCount; j++) {
      const state = { bucket: reply[p], cur: reply[p + 1], prev: reply[p + 2] };
      p += 3;
      const verdict = evaluateWindow(rule.windows[j], state, nowMs, cost);
      if (!verdict.allowed) retryAfterMs = Math.max(retryAfterMs, verdict.retryAfterMs);
      windows.push({ remaining: verdict.remaining, resetAtMs: verdict.resetAtMs });
    }
    return {
      allowed: allowed === 1,
      windowDenied: windowDenied === 1,
      concurrencyDenied: ccDenied === 1,
      concurrencyRemaining: ccRemaining < 0 ? null : ccRemaining,
      retryAfterMs: allowed === 1 ? 0 : retryAfterMs,
      windows,
    };
  });
  return { allowed: reply[0] === 1, deciding: reply[1] - 1, nowMs, rules };
}
