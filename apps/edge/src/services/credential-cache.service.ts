import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { PrismaRepository } from '@usageguard/database';
import { compilePolicy, type PlanPolicy } from '@usageguard/domain';

export interface Credential {
  tokenId: string;
  accountId: string;
  accountStatus: 'ACTIVE' | 'SUSPENDED' | 'CLOSED';
  policy: PlanPolicy;
}

export type CredentialLookup =
  { ok: true; credential: Credential } | { ok: false; reason: 'unknown' | 'revoked' | 'unavailable' };

interface Entry {
  value: CredentialLookup;
  expiresAt: number;
}

/**
 * API key → token, account and compiled plan, cached for EDGE_AUTH_CACHE_MS: a revocation, a plan change or a limit
 * change reaches the edge within that time. Only the key's SHA-256 is looked up (libs/domain tokens.ts). Concurrent
 * misses for one key share one query. While Postgres is unreachable an expired entry is served stale rather than
 * failing every request (a revocation then waits for Postgres).
 */
@Injectable()
export class CredentialCacheService {
  private readonly logger = new Logger(CredentialCacheService.name);
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<CredentialLookup>>();
  private readonly policies = new Map<string, PlanPolicy>();
  private readonly ttlMs: number;

  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ttlMs = config.edge.authCacheMs;
  }

  /** By the key's hashSecret(); a synchronous hit when cached and fresh (the common case), otherwise a query. */
  lookup(hash: string): CredentialLookup | Promise<CredentialLookup> {
    const entry = this.entries.get(hash);
    if (entry && entry.expiresAt > Date.now()) return entry.value;
    return this.load(hash, entry);
  }

  private load(hash: string, stale: Entry | undefined): Promise<CredentialLookup> {
    let pending = this.pending.get(hash);
    if (!pending) {
      pending = this.query(hash)
        .then((value) => {
          if (this.entries.size > 200_000) this.entries.clear();
          this.entries.set(hash, { value, expiresAt: Date.now() + this.ttlMs });
          return value;
        })
        .catch((error: unknown): CredentialLookup => {
          this.logger.warn(`credential lookup failed: ${String(error)}`);
          return stale?.value ?? { ok: false, reason: 'unavailable' };
        })
        .finally(() => this.pending.delete(hash));
      this.pending.set(hash, pending);
    }
    return pending;
  }

  private async query(hash: string): Promise<CredentialLookup> {
    const token = await this.prisma.apiToken.findUnique({
      where: { secretHash: hash },
      select: {
        id: true,
        revokedAt: true,
        account: { select: { id: true, status: true, plan: { include: { rules: { orderBy: { position: 'asc' } } } } } },
      },
    });
    if (!token) return { ok: false, reason: 'unknown' };
    if (token.revokedAt !== null && token.revokedAt.getTime() <= Date.now()) return { ok: false, reason: 'revoked' };
    const plan = token.account.plan;
    const cacheKey = `${plan.id}:${plan.version}:${plan.updatedAt.getTime()}:${plan.rules
      .map((r) => r.updatedAt.getTime())
      .join(',')}`;
    let policy = this.policies.get(cacheKey);
    if (!policy) {
      policy = compilePolicy({
        id: plan.id,
        key: plan.key,
        name: plan.name,
        apiAccess: plan.apiAccess,
        errorStyle: plan.errorStyle,
        limitStatusCode: plan.limitStatusCode,
        priorPerMinute: plan.priorPerMinute,
        version: plan.version,
        rules: plan.rules,
      });
      if (this.policies.size > 10_000) this.policies.clear();
      this.policies.set(cacheKey, policy);
    }
    return {
      ok: true,
      credential: { tokenId: token.id, accountId: token.account.id, accountStatus: token.account.status, policy },
    };
  }

  /** Every route template any plan names, for the route table. */
  async ruleRoutes(): Promise<string[]> {
    const rules = await this.prisma.limitRule.findMany({ select: { routes: true } });
    return rules.flatMap((r) => r.routes);
  }
}
