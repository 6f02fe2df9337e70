import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm run bench -- all`: runs every other benchmark in its own process (each may embed chDB, which binds one data
 * directory per process), collects each one's final JSON line, and writes docs/benchmarks.md with the figures,
 * the peers they are compared with, the machine, and how to reproduce. `npm run bench -- all <name> …` runs some.
 */
const ORDER = ['limiter', 'gateway', 'ingest', 'detection', 'analyzer', 'enforce', 'dashboard'];

/** What each benchmark compares against, and the issue's target, for the report. */
const NOTES: Record<string, { peers: string; target: string }> = {
  limiter: {
    peers: 'rate-limiter-flexible (RateLimiterRedis per window) on the same Redis; raw EVALSHA of a trivial script',
    target: 'ratio_vs_rlf ≥ 3, p99 ≤ 1 ms, ≥ 50% of the EVALSHA ceiling',
  },
  gateway: {
    peers: 'the same upstream called directly; a bare undici proxy (bench/peers/bare-proxy.ts)',
    target:
      'added p50 ≤ 1 ms (measured at 1,000 req/s evenly paced over 10 connections, and for one connection at 200 req/s)',
  },
  ingest: {
    peers: 'the same path with one ClickHouse insert per message (naive), on a smaller sample',
    target: '≥ 100,000 events/s end to end, lost 0, duplicated 0, ≥ 10× naive',
  },
  detection: {
    peers: 'labelled scenarios (ground truth)',
    target: 'precision ≥ 0.98, recall ≥ 0.98, burst_false_flags 0',
  },
  analyzer: { peers: '—', target: 'cycle over 10,000 accounts × 4 weeks ≤ 10 s' },
  enforce: { peers: '—', target: 'p99 ≤ 1,000 ms, emails duplicated 0, lost 0' },
  dashboard: { peers: '—', target: 'p95 ≤ 200 ms with 10,000 accounts × 4 weeks' },
};

function runOne(name: string): Promise<Record<string, unknown> | { bench: string; error: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    // The flags `npm run bench` runs with (package.json): each benchmark measures as it would alone.
    const flags = ['--max-semi-space-size=64', '-r', '@swc-node/register'];
    const child = spawn(process.execPath, [...flags, path.join(__dirname, 'main.ts'), name], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(last) as Record<string, unknown>;
        resolve({ ...parsed, wall_s: Math.round((Date.now() - started) / 100) / 10 });
      } catch {
        resolve({ bench: name, error: `exited ${code} without a JSON line` });
      }
    });
  });
}

function machine(): Record<string, string | number> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

function figures(result: Record<string, unknown>): string {
  return Object.entries(result)
    .filter(([key, value]) => key !== 'bench' && (typeof value === 'number' || typeof value === 'string'))
    .map(([key, value]) => `${key}=${typeof value === 'number' ? Number(value.toPrecision(4)) : String(value)}`)
    .join(', ');
}

function report(results: Record<string, unknown>[], when: string): string {
  const m = machine();
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench -- all\` on ${when}. Every figure below comes from one run of that command;`,
    'each benchmark compares UsageGuard with its named peers in the same run, on the same machine and services.',
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os}, Node.js ${m.node}. Kafka, Postgres and`,
    'Redis are the local stack (`npm run stack:up`); ClickHouse is embedded through chDB.',
    '',
    '| bench | peers | target | result |',
    '|---|---|---|---|',
  ];
  for (const r of results) {
    const name = String(r.bench);
    const note = NOTES[name] ?? { peers: '—', target: '—' };
    lines.push(
      `| ${name} | ${note.peers} | ${note.target} | ${'error' in r ? `**failed**: ${String(r.error)}` : figures(r)} |`,
    );
  }
  lines.push('', '## JSON lines', '', '```');
  for (const r of results) lines.push(JSON.stringify(r));
  lines.push(
    '```',
    '',
    '## Reproduce',
    '',
    '```bash',
    'npm run stack:up',
    'npm run bench -- all            # every benchmark, rewrites this file',
    'npm run bench -- <name>         # one benchmark; its last line is its JSON',
    '```',
    '',
  );
  return lines.join('\n');
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const present = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts') && f !== 'all.bench.ts')
    .map((f) => f.replace(/\.bench\.ts$/, ''));
  const wanted = args.length > 0 ? args : present;
  const names = [...ORDER.filter((n) => wanted.includes(n)), ...wanted.filter((n) => !ORDER.includes(n))].filter((n) =>
    present.includes(n),
  );
  const results: Record<string, unknown>[] = [];
  for (const [i, name] of names.entries()) {
    process.stderr.write(`\n[bench all] ${i + 1}/${names.length}: ${name}\n`);
    results.push(await runOne(name));
  }
  const file = path.join(__dirname, '..', 'docs', 'benchmarks.md');
  writeFileSync(file, report(results, new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC'));
  process.stderr.write(`[bench all] wrote ${path.relative(process.cwd(), file)}\n`);
  return { benches: results.length, failed: results.filter((r) => 'error' in r).length, results };
}
