import { Body, HttpCode, Inject, Post, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import type { ServerResponse } from 'node:http';
import { MinRole, OpsController, Principal, Public } from '../auth/auth.decorators';
import { type AuthenticatedRequest, type OpsPrincipal, readCookie, SESSION_COOKIE } from '../auth/auth.types';
import { Context, type RequestContext } from '../auth/request-context';
import { LoginDto, SessionDto, toSessionDto } from '../dtos/auth.dto';
import { AuthService } from '../services/auth.service';
import { SESSION_TTL_MS } from '../services/session.service';

@OpsController('auth', 'auth')
export class AuthController {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private cookie(value: string, maxAgeSeconds: number): string {
    const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
    if (this.config.http.cookieSecure) parts.push('Secure');
    return parts.join('; ');
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in; sets a new session cookie (any earlier session of this browser is ended)' })
  @ApiOkResponse({ type: SessionDto })
  @ApiTooManyRequestsResponse({ description: 'too many failed sign-ins for this email or address' })
  async login(
    @Body() body: LoginDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: ServerResponse,
    @Context() context: RequestContext,
  ): Promise<SessionDto> {
    const { principal, session } = await this.auth.login(body.email, body.password, {
      ip: context.ip,
      userAgent: context.userAgent,
      requestId: context.requestId,
      previousToken: readCookie(request.headers.cookie, SESSION_COOKIE),
    });
    response.setHeader('Set-Cookie', this.cookie(session.token, Math.floor(SESSION_TTL_MS / 1000)));
    return toSessionDto(principal, session.expiresAt);
  }

  @Post('logout')
  @MinRole('VIEWER')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: ends the session and clears the cookie' })
  async logout(
    @Principal() principal: OpsPrincipal,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: ServerResponse,
    @Context() context: RequestContext,
  ): Promise<void> {
    const token = readCookie(request.headers.cookie, SESSION_COOKIE) ?? '';
    await this.auth.logout(principal, token, context.requestId);
    response.setHeader('Set-Cookie', this.cookie('', 0));
  }

  @Get('session')
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'The signed-in user and the CSRF token of the session' })
  @ApiOkResponse({ type: SessionDto })
  session(@Principal() principal: OpsPrincipal): SessionDto {
    return toSessionDto(principal);
  }
}
