import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PrismaRepository } from '@usageguard/database';
import { hashSecret } from '@usageguard/domain';
import { DomainError } from '@usageguard/observability';

interface KeyedRequest {
  headers: Record<string, string | string[] | undefined>;
  ingestKeyId?: string;
}

/** Remembers a valid key briefly: gateways post every second or so, and revocation may take this long to bite. */
const CACHE_MS = 10_000;

/**
 * Ingest API keys (`Authorization: Bearer ug_ingest_…` or `X-Api-Key`): only their SHA-256 is stored, so a lookup is
 * one indexed equality on ingest_keys.secret_hash; revoked keys are refused.
 */
@Injectable()
export class IngestKeyGuard implements CanActivate {
  private readonly cache = new Map<string, { id: string; until: number }>();

  constructor(@Inject(PrismaRepository) private readonly prisma: PrismaRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<KeyedRequest>();
    const secret = this.secretOf(request);
    if (!secret) throw new DomainError('missing_ingest_key', 'an ingest key is required (Authorization: Bearer)', 401);
    const hash = hashSecret(secret);
    const cached = this.cache.get(hash);
    if (cached && cached.until > Date.now()) {
      request.ingestKeyId = cached.id;
      return true;
    }
    const key = await this.prisma.ingestKey.findUnique({ where: { secretHash: hash } });
    if (!key || key.revokedAt !== null) {
      this.cache.delete(hash);
      throw new DomainError('invalid_ingest_key', 'the ingest key is unknown or revoked', 401);
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { id: key.id, until: Date.now() + CACHE_MS });
    request.ingestKeyId = key.id;
    return true;
  }

  private secretOf(request: KeyedRequest): string | undefined {
    const auth = request.headers.authorization;
    if (typeof auth === 'string' && /^Bearer\s+\S+$/i.test(auth)) return auth.replace(/^Bearer\s+/i, '');
    const apiKey = request.headers['x-api-key'];
    return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
  }
}
