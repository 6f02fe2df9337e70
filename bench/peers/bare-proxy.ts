import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpstreamProxy } from '../../apps/edge/src/gateway/upstream.proxy';

/**
 * The gateway bench's peer: the edge's own forwarding (UpstreamProxy: undici from a node:http server, hop-by-hop
 * headers dropped, bodies streamed both ways) with no authentication, limiter, restrictions, request log or metrics.
 * The latency it adds is the floor of a Node proxy hop on the machine; the edge's own work is what it adds beyond.
 * `node -r @swc-node/register bench/peers/bare-proxy.ts <upstream url>`; prints `bare proxy listening on <url>`.
 */
const proxy = new UpstreamProxy(process.argv[2] ?? 'http://127.0.0.1:8081', 30_000);
const nothingAdded = { requestHeaders: {}, responseHeaders: {} };

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  proxy.forward(req, res, nothingAdded, () => undefined);
});
server.listen(0, '127.0.0.1', () => {
  console.log(`bare proxy listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  void proxy.close().then(() => process.exit(0));
});
