import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'undici';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those undici sets itself: never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
  'http2-settings',
]);

export interface ForwardOptions {
  /** Added to the upstream request (forwarding headers, the caller's account). */
  requestHeaders: Record<string, string>;
  /** Added to the client's response, over the upstream's own (rate-limit headers). */
  responseHeaders: Record<string, string>;
}

export type ForwardOutcome = 'ok' | 'aborted' | 'timeout' | 'upstream-error';

/**
 * Streams a request to the upstream and its response back, both ways without buffering (undici Pool.stream writes
 * the upstream body straight into the client's response, with back-pressure). A client that goes away aborts the
 * upstream request; an upstream that fails before answering gets a 502 (504 on timeout).
 */
export class UpstreamProxy {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(upstreamUrl: string, timeoutMs: number) {
    const url = new URL(upstreamUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, {
      connections: 256,
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  async forward(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): Promise<ForwardOutcome> {
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.once('close', onClose);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    try {
      await this.pool.stream(
        {
          path: this.basePath + (req.url ?? '/'),
          method: req.method ?? 'GET',
          headers: requestHeaders(req.headers, options.requestHeaders),
          body: hasBody ? req : null,
          signal: controller.signal,
          opaque: res,
        },
        ({ statusCode, headers }) => {
          res.statusCode = statusCode;
          for (const [name, value] of Object.entries(headers)) {
            if (value !== undefined && !HOP_BY_HOP.has(name)) res.setHeader(name, value);
          }
          for (const [name, value] of Object.entries(options.responseHeaders)) res.setHeader(name, value);
          return res;
        },
      );
      return 'ok';
    } catch (error) {
      if (controller.signal.aborted) return 'aborted';
      const code = (error as { code?: string }).code ?? '';
      const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
      if (!res.headersSent) {
        const status = timeout ? 504 : 502;
        const body = JSON.stringify({
          message: timeout ? 'The upstream API did not answer in time.' : 'The upstream API could not be reached.',
          error: timeout ? 'Gateway Timeout' : 'Bad Gateway',
          statusCode: status,
        });
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.destroy();
      }
      return timeout ? 'timeout' : 'upstream-error';
    } finally {
      res.off('close', onClose);
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function requestHeaders(
  headers: IncomingHttpHeaders,
  added: Record<string, string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  for (const name in added) out[name] = added[name];
  return out;
}
