import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { type AppConfig } from '@usageguard/config';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { CSRF_HEADER, SESSION_COOKIE } from './auth/auth.types';

/**
 * Where `npm run build:web` put the UI. Looked up from this file upwards, so it works from source
 * (apps/dashboard/src) and from the compiled build (dist/apps/dashboard/src) alike.
 */
export function findWebDist(from = __dirname): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'apps', 'dashboard', 'web', 'dist');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // The chart library sets inline style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

type Next = (error?: unknown) => void;

/**
 * The dashboard's HTTP surface besides its controllers: OpenAPI at /docs, security headers, and the built web UI
 * at / (its assets under /assets). Used by the dashboard's own
 * main.ts and by the control plane.
 */
export function configureDashboardHttp(app: INestApplication, _config?: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('UsageGuard ops dashboard API')
      .setDescription(
        'Sign in with POST /api/auth/login: the session travels in an httpOnly cookie, and every POST, PUT, PATCH ' +
          `and DELETE must carry the session's CSRF token in the ${CSRF_HEADER} header.`,
      )
      .setVersion('1')
      .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE }, 'session')
      .addApiKey({ type: 'apiKey', in: 'header', name: CSRF_HEADER }, 'csrf')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });

  const dist = findWebDist();
  const index = dist ? readFileSync(path.join(dist, 'index.html')) : undefined;
  const types: Record<string, string> = {
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.ico': 'image/x-icon',
    '.json': 'application/json',
    '.woff2': 'font/woff2',
  };

  app.use((request: IncomingMessage, response: ServerResponse, next: Next) => {
    const url = request.url ?? '/';
    const pathname = url.split('?')[0] ?? '/';
    if (pathname.startsWith('/api/')) response.setHeader('Cache-Control', 'no-store');
    // The UI owns only / and /assets/*: its pages are hash routes (/#/accounts/<id>), so it never shadows the
    // routes of the apps the control plane composes next to it.
    const isUi = pathname === '/' || pathname === '/index.html' || pathname.startsWith('/assets/');
    if (!isUi || (request.method !== 'GET' && request.method !== 'HEAD')) return next();
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    response.setHeader('X-Frame-Options', 'DENY');
    if (!dist || !index) {
      response.statusCode = 503;
      response.setHeader('Content-Type', 'text/plain; charset=utf-8');
      response.end('The dashboard UI is not built: run `npm run build:web`. The API is at /api, its docs at /docs.\n');
      return;
    }
    if (pathname.startsWith('/assets/')) {
      const name = path.basename(pathname);
      const file = path.join(dist, 'assets', name);
      if (/^[\w.-]+$/.test(name) && existsSync(file)) {
        response.setHeader('Content-Type', types[path.extname(file)] ?? 'application/octet-stream');
        // Vite fingerprints asset names, so they can be cached for good.
        response.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        response.end(readFileSync(file));
        return;
      }
      response.statusCode = 404;
      response.end();
      return;
    }
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache');
    response.end(index);
  });
}
