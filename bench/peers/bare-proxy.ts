import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

/**
 * The gateway bench's peer: the smallest proxy that does what the edge's forwarding does (undici Pool.stream from a
 * node:http server, hop-by-hop headers dropped), with no authentication, limiter, restrictions or request log. The
 * latency it adds is the floor of any Node proxy hop on the machine; the edge's own work is what it adds beyond.
 * `node -r @swc-node/register bench/peers/bare-proxy.ts <upstream url>`; prints `bare proxy listening on <url>`.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);
const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:8081');
const pool = new Pool(upstream.origin, { connections: 256, keepAliveTimeout: 30_000 });

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  pool
    .stream({ path: req.url ?? '/', method: req.method ?? 'GET', headers: req.headers, opaque: res }, (answer) => {
      res.statusCode = answer.statusCode;
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) res.setHeader(name, value);
      }
      return res;
    })
    .catch(() => res.destroy());
});
server.listen(0, '127.0.0.1', () => {
  console.log(`bare proxy listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool.close().then(() => process.exit(0));
});
