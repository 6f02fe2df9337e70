import { Inject, Injectable } from '@nestjs/common';
import { PrismaRepository } from '@usageguard/database';
import { createHash, randomBytes } from 'node:crypto';
import { type OpsPrincipal } from '../auth/auth.types';

/** Absolute lifetime of a session; the operator signs in again after it. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface NewSession {
  /** The cookie value; only its hash is stored, so a database leak does not hand out sessions. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Dashboard sessions: random tokens in an httpOnly cookie, their SHA-256 and a CSRF token in ops_sessions. */
@Injectable()
export class SessionService {
  constructor(@Inject(PrismaRepository) private readonly prisma: PrismaRepository) {}

  async create(userId: string, client: { ip: string; userAgent: string }): Promise<NewSession> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await this.prisma.opsSession.create({
      data: {
        tokenHash: sha256(token),
        userId,
        csrfToken,
        ip: client.ip.slice(0, 64),
        userAgent: client.userAgent.slice(0, 256),
        expiresAt,
      },
    });
    return { token, csrfToken, expiresAt };
  }

  async resolve(token: string): Promise<OpsPrincipal | undefined> {
    if (token.length > 128) return undefined;
    const session = await this.prisma.opsSession.findUnique({
      where: { tokenHash: sha256(token) },
      include: { user: true },
    });
    if (!session || session.expiresAt.getTime() <= Date.now() || session.user.disabled) return undefined;
    return {
      userId: session.user.id,
      email: session.user.email,
      name: session.user.name,
      role: session.user.role,
      sessionId: session.id,
      csrfToken: session.csrfToken,
    };
  }

  /** Ends the session the token names (logout, and rotation at login); unknown tokens are ignored. */
  async destroy(token: string): Promise<void> {
    await this.prisma.opsSession.deleteMany({ where: { tokenHash: sha256(token) } });
  }

  async destroyExpired(): Promise<number> {
    const { count } = await this.prisma.opsSession.deleteMany({ where: { expiresAt: { lte: new Date() } } });
    return count;
  }
}
