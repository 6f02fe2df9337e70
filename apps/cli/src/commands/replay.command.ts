import { type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { loadConfig } from '@usageguard/config';
import { parseRequestLogEvent, type ParsedEvent, type RequestLogEvent } from '@usageguard/contracts';
import { KafkaRepository, RequestLogProducer } from '@usageguard/kafka';

export const REPLAY_FORMATS = ['ndjson', 'csv', 'nginx', 'envoy'] as const;
export type ReplayFormat = (typeof REPLAY_FORMATS)[number];

export interface LineContext {
  /** Names the source in derived event ids, so replaying the same file twice stores each line once. */
  source: string;
  /** 1-based line number. */
  line: number;
  /** Account for access-log formats, which do not carry one. */
  accountId?: string;
  /** CSV header, once read. */
  header?: string[];
}

/** `/v1/contacts/42/notes/6f1c…` → `/v1/contacts/:id/notes/:id`: numbers, UUIDs and long hex or base64-ish ids. */
export function routeTemplate(rawPath: string): string {
  const pathOnly = rawPath.split('?')[0] || '/';
  const segments = pathOnly
    .split('/')
    .map((segment) =>
      /^\d+$/.test(segment) ||
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(segment) ||
      /^[0-9a-f]{16,}$/i.test(segment) ||
      (/^[A-Za-z0-9_-]{20,}$/.test(segment) && /\d/.test(segment))
        ? ':id'
        : segment,
    );
  const route = segments.join('/').slice(0, 256);
  return route.startsWith('/') ? route : `/${route}`;
}

function operationOf(method: string, route: string): RequestLogEvent['operation'] {
  if (/\/(auth|login|token|oauth)(\/|$)/.test(route)) return 'auth';
  return ['GET', 'HEAD', 'OPTIONS'].includes(method) ? 'read' : 'write';
}

const derivedId = (ctx: LineContext, line: string) =>
  `replay-${createHash('sha256').update(`${ctx.source}\n${ctx.line}\n${line}`).digest('hex').slice(0, 32)}`;

function accessLogEvent(
  ctx: LineContext,
  line: string,
  fields: { ts: Date; ip: string; method: string; path: string; status: number; bytesIn: number; bytesOut: number },
  extra: { latencyMs: number; requestId?: string },
): ParsedEvent {
  if (!ctx.accountId) return { ok: false, reason: 'access logs carry no account: pass --account <id>' };
  if (Number.isNaN(fields.ts.getTime())) return { ok: false, reason: 'unreadable timestamp' };
  const route = routeTemplate(fields.path);
  const eventId = derivedId(ctx, line);
  return parseRequestLogEvent({
    v: 1,
    eventId,
    ts: fields.ts.toISOString(),
    accountId: ctx.accountId,
    tokenId: null,
    clientIp: fields.ip,
    method: fields.method,
    route,
    status: fields.status,
    latencyMs: extra.latencyMs,
    bytesIn: fields.bytesIn,
    bytesOut: fields.bytesOut,
    operation: operationOf(fields.method, route),
    decision: fields.status === 429 ? 'limited' : 'allowed',
    requestId: extra.requestId && extra.requestId !== '-' ? extra.requestId : eventId,
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx `$time_local`: `10/Oct/2026:13:55:36 +0200`. */
function nginxTime(value: string): Date {
  const m = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(value);
  if (!m) return new Date(Number.NaN);
  const month = String(MONTHS.indexOf(m[2]) + 1).padStart(2, '0');
  return new Date(`${m[3]}-${month}-${m[1]}T${m[4]}:${m[5]}:${m[6]}${m[7]}${m[8]}:${m[9]}`);
}

/**
 * nginx `combined` (the default), optionally followed by `$request_time` in seconds (a common addition):
 * `1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /v1/x?y=1 HTTP/1.1" 200 512 "-" "curl/8" 0.012`
 */
const NGINX =
  /^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+)(?: [^"]*)?" (\d{3}) (\d+|-) "[^"]*" "[^"]*"(?: (\d+(?:\.\d+)?))?/;

/**
 * Envoy's default access-log format:
 * `[START_TIME] "METHOD PATH PROTOCOL" CODE FLAGS BYTES_RECEIVED BYTES_SENT DURATION UPSTREAM_TIME "X-FORWARDED-FOR"
 * "USER-AGENT" "X-REQUEST-ID" "AUTHORITY" "UPSTREAM_HOST"`.
 */
const ENVOY = /^\[([^\]]+)\] "(\S+) (\S+)(?: [^"]*)?" (\d{3}) \S+ (\d+) (\d+) (\d+) \S+ "([^"]*)" "[^"]*" "([^"]*)"/;

/** RFC 4180 fields of one CSV line (quoted fields, doubled quotes; no line breaks inside fields). */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}

const NUMERIC = new Set(['v', 'status', 'latencyMs', 'bytesIn', 'bytesOut']);
const camel = (name: string) => name.trim().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parses one line of the file; undefined for lines that carry no event (blank, CSV header). */
export function parseLine(format: ReplayFormat, line: string, ctx: LineContext): ParsedEvent | undefined {
  if (line.trim().length === 0) return undefined;
  switch (format) {
    case 'ndjson': {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (error) {
        return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
      }
      // Events written before versioning was explicit are v1.
      if (typeof json === 'object' && json !== null && !('v' in json)) json = { v: 1, ...json };
      return parseRequestLogEvent(json);
    }
    case 'csv': {
      const fields = csvFields(line);
      if (!ctx.header) {
        ctx.header = fields.map(camel);
        return undefined;
      }
      const event: Record<string, unknown> = {};
      ctx.header.forEach((name, i) => {
        const value = fields[i] ?? '';
        if (name === 'tokenId') event[name] = value === '' ? null : value;
        else if (name === 'rule') {
          if (value !== '') event[name] = value;
        } else event[name] = NUMERIC.has(name) && value !== '' ? Number(value) : value;
      });
      event.v ??= 1;
      return parseRequestLogEvent(event);
    }
    case 'nginx': {
      const m = NGINX.exec(line);
      if (!m) return { ok: false, reason: 'not an nginx combined log line' };
      return accessLogEvent(
        ctx,
        line,
        {
          ts: nginxTime(m[2]),
          ip: m[1],
          method: m[3],
          path: m[4],
          status: Number(m[5]),
          bytesIn: 0,
          bytesOut: m[6] === '-' ? 0 : Number(m[6]),
        },
        { latencyMs: m[7] ? Math.round(Number(m[7]) * 1_000 * 1_000) / 1_000 : 0 },
      );
    }
    case 'envoy': {
      const m = ENVOY.exec(line);
      if (!m) return { ok: false, reason: 'not an Envoy default-format log line' };
      const forwarded = m[8].split(',')[0].trim();
      return accessLogEvent(
        ctx,
        line,
        {
          ts: new Date(m[1]),
          ip: forwarded === '-' || forwarded === '' ? '0.0.0.0' : forwarded,
          method: m[2],
          path: m[3],
          status: Number(m[4]),
          bytesIn: Number(m[5]),
          bytesOut: Number(m[6]),
        },
        { latencyMs: Number(m[7]), requestId: m[9] },
      );
    }
  }
}

/** The format a file name suggests (`.ndjson`, `.jsonl`, `.csv`, `nginx`/`access`, `envoy`; `.gz` ignored). */
export function guessFormat(file: string): ReplayFormat | undefined {
  const name = path.basename(file).toLowerCase().replace(/\.gz$/, '');
  if (/\.(ndjson|jsonl|json)$/.test(name)) return 'ndjson';
  if (name.endsWith('.csv')) return 'csv';
  if (name.includes('envoy')) return 'envoy';
  if (name.includes('nginx') || name.includes('access')) return 'nginx';
  return undefined;
}

export interface ReplaySummary {
  file: string;
  format: ReplayFormat;
  lines: number;
  published: number;
  invalid: number;
  /** The first invalid lines, with their reason. */
  errors: { line: number; reason: string }[];
  seconds: number;
}

/**
 * Reads the file (gzip when it ends in .gz or starts with gzip's magic bytes), parses every line, and publishes the
 * valid events to the request-logs topic in acknowledged batches (acks from all in-sync replicas). Invalid lines
 * are counted and reported, never published. Events derived from access logs get ids from file name, line number
 * and content, so replaying the same file again changes no count.
 */
export async function replayFile(
  file: string,
  options: { format: ReplayFormat; accountId?: string; dryRun?: boolean; progress?: boolean },
  producer?: Pick<RequestLogProducer, 'send'>,
): Promise<ReplaySummary> {
  const started = performance.now();
  const size = statSync(file).size;
  const raw = createReadStream(file);
  const head = await new Promise<Buffer>((resolve, reject) => {
    const probe = createReadStream(file, { start: 0, end: 1 });
    const chunks: Buffer[] = [];
    probe.on('data', (c: Buffer | string) => void chunks.push(Buffer.from(c)));
    probe.on('end', () => resolve(Buffer.concat(chunks)));
    probe.on('error', reject);
  });
  const gzipped = file.endsWith('.gz') || (head[0] === 0x1f && head[1] === 0x8b);
  const lines = createInterface({ input: gzipped ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity });

  const bar = options.progress
    ? new SingleBar(
        { format: 'replay [{bar}] {percentage}% | {published} published | {invalid} invalid', stream: process.stderr },
        Presets.shades_classic,
      )
    : undefined;
  bar?.start(size, 0, { published: 0, invalid: 0 });

  const ctx: LineContext = { source: path.basename(file), line: 0, accountId: options.accountId };
  const summary: ReplaySummary = {
    file,
    format: options.format,
    lines: 0,
    published: 0,
    invalid: 0,
    errors: [],
    seconds: 0,
  };
  let batch: RequestLogEvent[] = [];
  const publish = async () => {
    if (batch.length === 0) return;
    if (!options.dryRun) await producer?.send(batch);
    summary.published += batch.length;
    batch = [];
    bar?.update(raw.bytesRead, { published: summary.published, invalid: summary.invalid });
  };
  for await (const line of lines) {
    ctx.line++;
    summary.lines++;
    const parsed = parseLine(options.format, line, ctx);
    if (parsed === undefined) continue;
    if (parsed.ok) {
      batch.push(parsed.event);
      if (batch.length >= 5_000) await publish();
    } else {
      summary.invalid++;
      if (summary.errors.length < 20) summary.errors.push({ line: ctx.line, reason: parsed.reason });
    }
  }
  await publish();
  bar?.update(size, { published: summary.published, invalid: summary.invalid });
  bar?.stop();
  summary.seconds = Math.round((performance.now() - started) / 10) / 100;
  return summary;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('import request logs into Kafka: NDJSON events, CSV, nginx or Envoy access logs (gzip too)')
    .argument('<file>', 'the log file (.gz is decompressed)')
    .option('--format <format>', `one of ${REPLAY_FORMATS.join(', ')} (default: guessed from the file name)`)
    .option('--account <id>', 'account id for access-log formats, which carry none')
    .option('--dry-run', 'parse and count only; publish nothing')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { format?: string; account?: string; dryRun?: boolean; json?: boolean }) => {
      const format = (opts.format ?? guessFormat(file)) as ReplayFormat | undefined;
      if (!format || !REPLAY_FORMATS.includes(format)) {
        throw new Error(`cannot tell the format of ${file}: pass --format (${REPLAY_FORMATS.join(', ')})`);
      }
      if ((format === 'nginx' || format === 'envoy') && !opts.account) {
        throw new Error(`${format} access logs carry no account id: pass --account <id>`);
      }
      const kafka = new KafkaRepository(loadConfig());
      const producer = new RequestLogProducer(kafka);
      try {
        if (!opts.dryRun) await kafka.ensureTopics();
        const summary = await replayFile(
          file,
          { format, accountId: opts.account, dryRun: opts.dryRun, progress: process.stderr.isTTY },
          producer,
        );
        if (opts.json) console.log(JSON.stringify(summary));
        else {
          console.log(
            `${summary.file} (${summary.format}): ${summary.lines} lines, ${summary.published} events ` +
              `${opts.dryRun ? 'valid (dry run)' : 'published'}, ${summary.invalid} invalid, ${summary.seconds} s`,
          );
          for (const e of summary.errors) console.log(`  line ${e.line}: ${e.reason}`);
          if (summary.invalid > summary.errors.length) {
            console.log(`  … and ${summary.invalid - summary.errors.length} more`);
          }
        }
        if (summary.invalid > 0) process.exitCode = 2;
      } finally {
        await producer.onModuleDestroy();
        await kafka.onModuleDestroy();
      }
    });
}
