import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { evaluateWindow } from '@usageguard/domain';
import { createHash } from 'node:crypto';
import { LIMITER_LUA } from './limiter.lua';
import type { PipelinedConnection } from './pipelined-connection';
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

/** struct formats of the script's batch by count of numbers ('<' little-endian, 'd' double). */
const formats: string[] = [];
const formatOf = (count: number): string => (formats[count] ??= `<${'d'.repeat(count)}`);
/** The script packs a rule's window count into 4 bits. */
const MAX_WINDOWS = 15;
/**
 * Most requests one script call decides. A batch holds Redis for its whole run (about 12 µs a request), so the cap
 * bounds what a batch adds to the latency of everything else Redis serves.
 */
const MAX_BATCH = 8;

/** A request waiting for the end of the event-loop turn: its part of the batch, already encoded. */
interface Queued {
  request: ScriptRequest;
  /** Window-state keys, one per rule. */
  keys: string[];
  /** Concurrency lease keys of the rules that have a limit. */
  leaseKeys: string[];
  spec: Buffer;
  resolve: (result: ScriptResult) => void;
  reject: (error: Error) => void;
}

/**
 * The limiter's door to Redis, on a dedicated pipelined connection (pipelined-connection.ts) with tight timeouts, no
 * offline queue and no retries, so a Redis outage surfaces as a fast error the caller's fail modes handle, never as
 * a queue of stalled requests. The script is loaded by SHA; after a Redis restart (NOSCRIPT) it is sent once more
 * in full.
 *
 * The decisions asked for in one turn of the event loop go to Redis as one script call (at most MAX_BATCH): each
 * request still has exactly one round trip and its own all-or-nothing evaluation, in the order asked, and an idle
 * edge sends a lone decision at the end of the turn it was asked in. What a batch saves is Redis's time: the
 * command, the script call, the clock and the reply are paid once per batch, and Redis is the limiter's bottleneck
 * (docs/limiter.md, "Throughput"). A failed call fails every request of its batch with the same error.
 *
 * A batch mixes accounts, so its keys span hash slots: on Redis Cluster the batch would have to be cut per slot
 * (docs/limiter.md, "Redis Cluster").
 */
@Injectable()
export class LimiterScriptRepository implements OnModuleInit {
  readonly sha = createHash('sha1').update(LIMITER_LUA).digest('hex');
  readonly prefix: string;
  private readonly connection: PipelinedConnection;
  private queue: Queued[] = [];
  private scheduled = false;

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

  /** Decides one request; it leaves with the other decisions of this event-loop turn (see the class comment). */
  evaluate(request: ScriptRequest): Promise<ScriptResult> {
    const { rules } = request;
    if (rules.length === 0) return Promise.reject(new Error('the limiter script needs at least one rule'));
    let count = 4;
    for (const rule of rules) {
      if (rule.windows.length > MAX_WINDOWS) {
        return Promise.reject(new Error(`a rule has at most ${MAX_WINDOWS} windows`));
      }
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
    const leaseKeys: string[] = [];
    for (const rule of rules) if (rule.concurrency > 0) leaseKeys.push(rule.leaseKey);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, keys, leaseKeys, spec, resolve, reject });
      if (this.queue.length >= MAX_BATCH) this.sendQueued();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.endOfTurn);
      }
    });
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

  private readonly endOfTurn = (): void => {
    this.scheduled = false;
    this.sendQueued();
  };

  private sendQueued(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const header = Buffer.allocUnsafe(16);
    const specs: Buffer[] = [header];
    const keys: string[] = [];
    const leaseIds: string[] = [];
    let bytes = 16;
    for (const q of batch) {
      specs.push(q.spec);
      bytes += q.spec.length;
      for (const key of q.keys) keys.push(key);
      leaseIds.push(q.request.leaseId);
    }
    header.writeDoubleLE(batch.length, 0);
    header.writeDoubleLE(keys.length, 8);
    for (const q of batch) for (const key of q.leaseKeys) keys.push(key);
    const args = [keys.length, ...keys, Buffer.concat(specs, bytes), formatOf(bytes / 8), ...leaseIds];
    this.call(args).then(
      (reply) => {
        let offset = 0;
        for (const q of batch) {
          q.resolve(parseReply(reply, offset, q.request));
          offset += 3 + 2 * q.request.rules.length;
        }
      },
      (error: Error) => {
        for (const q of batch) q.reject(error);
      },
    );
  }

  private async call(args: (string | number | Buffer)[]): Promise<Reply> {
    try {
      return (await this.connection.call(['EVALSHA', this.sha, ...args])) as Reply;
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return (await this.connection.call(['EVAL', LIMITER_LUA, ...args])) as Reply;
    }
  }
}

type Reply = (number | Buffer | null)[];

/**
 * Turns one request's part of the script's reply (from `offset`) into per-rule results. The script returns, per rule,
 * the stored state it judged the request on; remaining, reset and Retry-After come from window-math.ts applied to
 * that state, so the maths lives in one place and the figures agree with the script's decision by construction.
 */
function parseReply(reply: Reply, offset: number, request: ScriptRequest): ScriptResult {
  const nowMs = reply[offset + 2] as number;
  const n = request.rules.length;
  const peek = request.mode === 'peek'; // peek judges a request of cost 0
  const rules: ScriptRuleResult[] = request.rules.map((rule, i) => {
    const flags = reply[offset + 3 + i] as number;
    const stored = reply[offset + 3 + n + i] as Buffer | null;
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
  return { allowed: reply[offset] === 1, deciding: (reply[offset + 1] as number) - 1, nowMs, rules };
}
