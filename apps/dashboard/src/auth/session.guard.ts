import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type OpsRole } from '@usageguard/database';
import { timingSafeEqual } from 'node:crypto';
import { SessionService } from '../services/session.service';
import { CSRF_HEADER, readCookie, roleAtLeast, SESSION_COOKIE, type AuthenticatedRequest } from './auth.types';
import { PUBLIC_KEY, ROLE_KEY } from './auth.decorators';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Every dashboard route passes here, in this order: a live session (401), the session's CSRF token on any
 * state-changing method (403), the route's least role (403). A route that states neither a role nor @Public is
 * refused, so a forgotten decorator fails closed.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(SessionService) private readonly sessions: SessionService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)) return true;
    const least = this.reflector.getAllAndOverride<OpsRole | undefined>(ROLE_KEY, targets);
    if (!least) throw new ForbiddenException('this route states no role');

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = readCookie(request.headers.cookie, SESSION_COOKIE);
    const principal = token ? await this.sessions.resolve(token) : undefined;
    if (!principal) throw new UnauthorizedException('sign in first');
    request.principal = principal;

    if (!SAFE_METHODS.has(request.method.toUpperCase())) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, principal.csrfToken)) {
        throw new ForbiddenException('missing or wrong CSRF token');
      }
    }
    if (!roleAtLeast(principal.role, least)) {
      throw new ForbiddenException(`needs the ${least.toLowerCase()} role`);
    }
    return true;
  }
}
