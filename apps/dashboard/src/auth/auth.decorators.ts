import {
  applyDecorators,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { ApiCookieAuth, ApiForbiddenResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { type OpsRole } from '@usageguard/database';
import { type AuthenticatedRequest, type OpsPrincipal } from './auth.types';
import { SessionGuard } from './session.guard';

export const ROLE_KEY = 'usageguard:dashboard:role';
export const PUBLIC_KEY = 'usageguard:dashboard:public';

/** The least role a route needs. Every dashboard route states one (or @Public); the guard refuses routes without. */
export const MinRole = (role: OpsRole) => SetMetadata(ROLE_KEY, role);

/** A route anyone may call (login). Still passes through the guard, which skips only the session check. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/**
 * A dashboard API controller: mounted under /api, behind the session guard (session, CSRF, role), documented in
 * OpenAPI as cookie-authenticated with a CSRF header.
 */
export const OpsController = (path: string, tag: string) =>
  applyDecorators(
    Controller(`api/${path}`),
    UseGuards(SessionGuard),
    ApiTags(tag),
    ApiCookieAuth('session'),
    ApiSecurity('csrf'),
    ApiUnauthorizedResponse({ description: 'no valid session' }),
    ApiForbiddenResponse({ description: 'role too low, or CSRF token missing or wrong' }),
  );

/** The signed-in ops user of the request (set by SessionGuard). */
export const Principal = createParamDecorator((_: unknown, context: ExecutionContext): OpsPrincipal => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.principal) throw new Error('Principal used on a route without a session');
  return request.principal;
});
