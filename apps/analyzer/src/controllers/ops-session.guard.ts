import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PrismaRepository } from '@usageguard/database';
import { hashSecret } from '@usageguard/domain';
import { DomainError } from '@usageguard/observability';
import { timingSafeEqual } from 'node:crypto';

/** The dashboard's session cookie and CSRF header (an ops user signs in there; sessions live in ops_sessions). */
const SESSION_COOKIE = 'ug_session';
const CSRF_HEADER = 'x-csrf-token';

interface OpsRequest {
  headers: Record<string, string | string[] | undefined>;
  opsUserId?: string;
}

function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const raw = Array.isArray(header) ? header.join('; ') : header;
  for (const part of raw?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/**
 * Ops endpoints of the analyzer (backtest): a live dashboard session of an operator or admin, and its CSRF token.
 * Sessions are stored as SHA-256 hashes, so the lookup is one indexed equality.
 */
@Injectable()
export class OpsSessionGuard implements CanActivate {
  constructor(@Inject(PrismaRepository) private readonly prisma: PrismaRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<OpsRequest>();
    const token = readCookie(request.headers.cookie, SESSION_COOKIE);
    const session = token
      ? await this.prisma.opsSession.findUnique({ where: { tokenHash: hashSecret(token) }, include: { user: true } })
      : null;
    if (!session || session.expiresAt.getTime() <= Date.now() || session.user.disabled) {
      throw new DomainError('unauthenticated', 'sign in to the dashboard first', 401);
    }
    const csrf = request.headers[CSRF_HEADER];
    const expected = Buffer.from(session.csrfToken);
    if (typeof csrf !== 'string' || csrf.length !== expected.length || !timingSafeEqual(Buffer.from(csrf), expected)) {
      throw new DomainError('csrf', 'missing or wrong CSRF token', 403);
    }
    if (session.user.role === 'VIEWER') throw new DomainError('forbidden', 'needs the operator role', 403);
    request.opsUserId = session.user.id;
    return true;
  }
}
