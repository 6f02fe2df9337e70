import { type Command } from 'commander';
import { createServer } from 'node:http';

/**
 * `usageguard demo-upstream`: a stand-in for the provider's own API behind the edge in the demo. Answers every
 * route with a small JSON document after a short, variable delay, like a real service would.
 */
export function registerDemoUpstream(program: Command): void {
  program
    .command('demo-upstream')
    .description('run a stand-in for the provider API (the upstream the edge proxies to)')
    .option('--port <port>', 'port to listen on', '8081')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action((options: { port: string; host: string }) => {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const delay = 2 + Math.floor(Math.random() * 8);
          // Sign-ins fail unless the password is right: credential stuffing shows up as a storm of 401s.
          const login = req.method === 'POST' && (req.url ?? '').startsWith('/v1/auth/login');
          const denied = login && !Buffer.concat(chunks).toString().includes('"password":"correct-horse"');
          setTimeout(() => {
            const body = denied
              ? JSON.stringify({ message: 'Invalid credentials', error: 'Unauthorized', statusCode: 401 })
              : JSON.stringify({ ok: true, method: req.method, path: req.url, received: Buffer.concat(chunks).length });
            res.writeHead(denied ? 401 : 200, {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            });
            res.end(body);
          }, delay);
        });
      });
      server.listen(Number(options.port), options.host, () => {
        console.log(`demo upstream listening on http://${options.host}:${options.port}`);
      });
      const stop = () => server.close(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
