import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import {
  applicableRules,
  type ErrorStyle,
  hashSecret,
  type LimitDecision,
  type PlanPolicy,
  primaryWindow,
  rateLimitHeaders,
  renderError,
  renderLimited,
  type RenderedError,
  RouteTable,
  stripQuery,
} from '@usageguard/domain';
import { RequestLogProducer } from '@usageguard/kafka';
import { type HotCounter, MetricsService } from '@usageguard/observability';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LimiterService } from '../limiter/limiter.service';
import { CredentialCacheService } from '../services/credential-cache.service';
import { RestrictionCacheService } from '../services/restriction-cache.service';
import { RequestLogRecorder, type RequestOutcome } from './request-log.recorder';
import { UpstreamProxy } from './upstream.proxy';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const ROUTES_REFRESH_MS = 60_000;

/**
 * The gateway: a plain node:http server (no framework routing on the hot path) in front of EDGE_UPSTREAM_URL,
 * started from the Nest application context so configuration, DI, health and metrics work as in every app
 * (those two are served by Nest on EDGE_ADMIN_PORT; this port carries customer traffic only).
 *
 * Per request: API key → account and plan (cached) → 401/403 → restrictions (local copy) → the limiter's one Redis
 * round trip → 429/503 in the plan's style, or the request streamed to the upstream with rate-limit headers on the
 * way back → concurrency leases released when the response ends or the client goes away → one request log event.
 */
@Injectable()
export class GatewayServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(GatewayServer.name);
  private server: Server | undefined;
  private readonly upstream: UpstreamProxy;
  private routes = new RouteTable([]);
  private routesTimer: NodeJS.Timeout | undefined;
  private readonly log: RequestLogRecorder;
  private readonly responses: HotCounter;
  private readonly edge: AppConfig['edge'];
  private readonly connectionKeys = new WeakMap<Socket, { secret: string; hash: string }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CredentialCacheService) private readonly credentials: CredentialCacheService,
    @Inject(RestrictionCacheService) private readonly restrictions: RestrictionCacheService,
    @Inject(LimiterService) private readonly limiter: LimiterService,
    @Inject(RequestLogProducer) producer: RequestLogProducer,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    this.edge = config.edge;
    this.upstream = new UpstreamProxy(config.http.edge.upstreamUrl, config.edge.upstreamTimeoutMs);
    this.log = new RequestLogRecorder(producer);
    this.responses = metrics.hotCounter('usageguard_edge_responses_total', 'Gateway responses', ['decision', 'status']);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refreshRoutes();
    this.routesTimer = setInterval(() => void this.refreshRoutes(), ROUTES_REFRESH_MS);
    this.routesTimer.unref();
    const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.handle(req, res));
    this.server = server;
    const { host, port } = this.config.http.edge;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.logger.log(
      `edge gateway listening on http://${host}:${this.address().port} → ${this.config.http.edge.upstreamUrl}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.routesTimer);
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    }
    await this.upstream.close();
  }

  address(): AddressInfo {
    return this.server?.address() as AddressInfo;
  }

  private async refreshRoutes(): Promise<void> {
    try {
      this.routes = new RouteTable([...this.edge.routes, ...(await this.credentials.ruleRoutes())]);
    } catch (error) {
      this.logger.warn(`route templates not refreshed: ${String(error)}`);
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((error: unknown) => {
      this.logger.error(`request failed: ${(error as Error)?.stack ?? String(error)}`);
      if (!res.headersSent) this.send(res, renderError(this.edge.errorStyle, 500, 'Internal server error'));
      else res.destroy();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';

    const secret = apiKeyOf(req);
    if (secret === null) {
      return this.reject(res, this.edge.errorStyle, 401, 'An API key is required.', 'missing_api_key');
    }
    const found = this.credentials.lookup(this.keyHash(req.socket, secret));
    const lookup = found instanceof Promise ? await found : found;
    if (!lookup.ok) {
      if (lookup.reason === 'unavailable') {
        return this.reject(
          res,
          this.edge.errorStyle,
          503,
          'Authentication is temporarily unavailable.',
          'auth_unavailable',
        );
      }
      const message = lookup.reason === 'revoked' ? 'The API key has been revoked.' : 'The API key is invalid.';
      return this.reject(res, this.edge.errorStyle, 401, message, `${lookup.reason}_api_key`);
    }
    const { credential } = lookup;
    const policy = credential.policy;
    if (credential.accountStatus !== 'ACTIVE') {
      return this.reject(res, policy.errorStyle, 403, 'The account is suspended.', 'account_suspended');
    }
    if (!policy.apiAccess) {
      const message = `API access is not included in the ${policy.name} plan. Upgrade your plan to use the API.`;
      return this.reject(res, policy.errorStyle, 403, message, 'no_api_access');
    }

    const route = this.routes.resolve(path);
    const clientIp = this.clientIp(req);
    const facts = { accountId: credential.accountId, tokenId: credential.tokenId, clientIp, method, route };
    // One outcome per request, completed in place (no copies on the hot path).
    const outcome: RequestOutcome = {
      req,
      res,
      requestId,
      startedAt,
      started,
      facts,
      decision: 'allowed',
      rule: undefined,
    };

    const active = this.restrictions.find(credential.accountId, credential.tokenId, clientIp, method, route);
    if (active.block) {
      const r = active.block;
      const retryAfter = Math.max(1, Math.ceil((r.expiresAt - Date.now()) / 1000));
      const message = r.reason || 'Access is temporarily restricted.';
      this.send(
        res,
        renderError(policy.errorStyle, r.statusCode, message, {
          code: r.reasonCode,
          headers: { 'retry-after': String(retryAfter) },
        }),
      );
      outcome.decision = 'restricted';
      outcome.rule = `restriction:${r.reasonCode}`;
      this.finish(outcome);
      return;
    }

    const rules = applicableRules(policy, facts, active.throttle?.throttleFactor ?? undefined);
    if (stripQuery(path) === this.edge.statusPath) {
      return this.status(res, policy, await this.limiter.peek(credential.accountId, rules));
    }

    const decision = await this.limiter.check(credential.accountId, rules, requestId);
    if (!decision.allowed) {
      // A denial under a throttle restriction answers with the restriction's status (the enforcer chose it).
      const status = decision.reason === 'unavailable' ? 503 : (active.throttle?.statusCode ?? policy.limitStatusCode);
      this.send(res, renderLimited(policy.errorStyle, status, decision, requestId));
      outcome.decision = 'limited';
      outcome.rule = decision.decidingRule?.name;
      this.finish(outcome);
      return;
    }

    if (decision.shadowLimited.length > 0) outcome.rule = `shadow:${decision.shadowLimited.join(',')}`;
    const headers = {
      requestHeaders: {
        'x-request-id': requestId,
        'x-forwarded-for': forwardedFor(req),
        'x-usageguard-account': credential.accountId,
      },
      responseHeaders: rateLimitHeaders(decision),
    };
    // Called when the client's response has closed: finished, failed, or the client went away.
    this.upstream.forward(req, res, headers, () => {
      this.limiter.release(credential.accountId, decision);
      this.finish(outcome);
    });
  }

  /** Klinky's status endpoint: the current window, without consuming a request. */
  private status(res: ServerResponse, policy: PlanPolicy, decision: LimitDecision): void {
    const primary = primaryWindow(decision);
    const body = primary
      ? {
          limit: primary.limit,
          remaining: primary.remaining,
          reset_at: new Date(Math.ceil(primary.resetAtMs / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
        }
      : { limit: null, remaining: null, reset_at: null, plan: policy.key };
    const text = JSON.stringify(body);
    res.writeHead(200, {
      ...rateLimitHeaders(decision),
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private reject(res: ServerResponse, style: ErrorStyle, status: number, message: string, code: string): void {
    this.send(res, renderError(style, status, message, { code }));
    this.responses.inc('rejected', String(status));
  }

  private send(res: ServerResponse, rendered: RenderedError): void {
    res.writeHead(rendered.status, {
      ...rendered.headers,
      'content-type': rendered.contentType,
      'content-length': Buffer.byteLength(rendered.body),
    });
    res.end(rendered.body);
  }

  private finish(outcome: RequestOutcome): void {
    this.responses.inc(outcome.decision, String(outcome.res.statusCode));
    if (outcome.res.writableFinished || outcome.res.destroyed) this.log.record(outcome);
    else outcome.res.once('close', () => this.log.record(outcome));
  }

  /**
   * The key's hash, computed once per client connection while the connection keeps sending the same key (clients
   * nearly always do): SHA-256 through createHash was the largest own cost of a request in the edge's profile
   * (~4 µs). The key stays in memory only as long as the connection that carries it.
   */
  private keyHash(connection: Socket, secret: string): string {
    const last = this.connectionKeys.get(connection);
    if (last !== undefined && last.secret === secret) return last.hash;
    const hash = hashSecret(secret);
    this.connectionKeys.set(connection, { secret, hash });
    return hash;
  }

  private clientIp(req: IncomingMessage): string {
    if (this.edge.trustProxy) {
      const forwarded = req.headers['x-forwarded-for'];
      const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
      if (first) return first;
    }
    const address = req.socket.remoteAddress ?? '0.0.0.0';
    return address.startsWith('::ffff:') ? address.slice(7) : address;
  }
}

/** The incoming X-Forwarded-For chain with this hop's peer appended (RFC 7239 practice for the legacy header). */
function forwardedFor(req: IncomingMessage): string {
  const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const given = req.headers['x-forwarded-for'];
  const chain = Array.isArray(given) ? given.join(', ') : given;
  return chain ? `${chain}, ${peer}` : peer;
}

/** `Authorization: Bearer <key>` or `X-API-Key: <key>` (Klinky documents both). */
function apiKeyOf(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth !== undefined && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ')
    return auth.slice(7).trim();
  const key = req.headers['x-api-key'];
  if (typeof key === 'string' && key.length > 0) return key;
  return null;
}
