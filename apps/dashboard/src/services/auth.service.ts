import { HttpException, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { PrismaRepository } from '@usageguard/database';
import { type OpsPrincipal } from '../auth/auth.types';
import { AuditService } from './audit.service';
import { LoginThrottleService } from './login-throttle.service';
import { type NewSession, SessionService } from './session.service';

export interface LoginClient {
  ip: string;
  userAgent: string;
  requestId: string | null;
  /** The session cookie the browser already had, ended at sign-in so a planted session id never gets privileges. */
  previousToken?: string;
}

/** Signs ops users in and out; every attempt is audited. */
@Injectable()
export class AuthService {
  /** Verified when the email is unknown, so a wrong email costs as much time as a wrong password. */
  private readonly decoy: Promise<string> = hash('usageguard-decoy-password');

  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(LoginThrottleService) private readonly throttle: LoginThrottleService,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async login(
    email: string,
    password: string,
    client: LoginClient,
  ): Promise<{ principal: OpsPrincipal; session: NewSession }> {
    const normalized = email.trim().toLowerCase();
    const state = await this.throttle.check(normalized, client.ip);
    if (state.blocked) {
      await this.audit.record({
        actor: null,
        action: 'auth.login-throttled',
        targetType: 'ops_user',
        after: { email: normalized, ip: client.ip },
        requestId: client.requestId,
      });
      throw new HttpException(
        {
          message: `too many failed sign-ins; try again in ${state.retryAfterSeconds} s`,
          error: 'Too Many Requests',
          statusCode: 429,
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }

    const user = await this.prisma.opsUser.findUnique({ where: { email: normalized } });
    const valid = user ? await verify(user.passwordHash, password) : (await verify(await this.decoy, password), false);
    if (!user || !valid || user.disabled) {
      await this.throttle.recordFailure(normalized, client.ip);
      await this.audit.record({
        actor: null,
        action: 'auth.login-failed',
        targetType: 'ops_user',
        targetId: user?.id ?? null,
        after: { email: normalized, ip: client.ip },
        requestId: client.requestId,
      });
      throw new UnauthorizedException('wrong email or password');
    }

    await this.throttle.recordSuccess(normalized, client.ip);
    if (client.previousToken) await this.sessions.destroy(client.previousToken);
    await this.sessions.destroyExpired();
    const session = await this.sessions.create(user.id, client);
    await this.prisma.opsUser.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
    const principal: OpsPrincipal = {
      userId: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      sessionId: '',
      csrfToken: session.csrfToken,
    };
    await this.audit.record({
      actor: principal,
      action: 'auth.login',
      targetType: 'ops_user',
      targetId: user.id,
      after: { ip: client.ip, userAgent: client.userAgent.slice(0, 256) },
      requestId: client.requestId,
    });
    return { principal, session };
  }

  async logout(principal: OpsPrincipal, token: string, requestId: string | null): Promise<void> {
    await this.sessions.destroy(token);
    await this.audit.record({
      actor: principal,
      action: 'auth.logout',
      targetType: 'ops_user',
      targetId: principal.userId,
      requestId,
    });
  }
}
