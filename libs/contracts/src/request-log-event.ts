import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Request log event, version 1: one per request seen by an edge or reported by another gateway.
 * Kafka topic `request-logs`, key = accountId, value = this object as JSON. Documented in docs/events.md.
 * A later version adds a new schema with `v: 2` to the union below; consumers accept every listed version.
 */
export const OPERATION_CLASSES = ['read', 'write', 'bulk', 'auth', 'admin', 'other'] as const;
export const EDGE_DECISIONS = ['allowed', 'limited', 'restricted'] as const;
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const requestLogEventV1Schema = z.strictObject({
  v: z.literal(1),
  /** Unique per request; the key ClickHouse deduplicates on. */
  eventId: id,
  /** When the request arrived at the gateway, ISO-8601 with offset (stored as UTC, millisecond precision). */
  ts: z.iso.datetime({ offset: true }),
  accountId: id,
  /** The API token used, or null for unauthenticated requests. */
  tokenId: id.nullable(),
  clientIp: z.string().refine((value) => isIP(value) !== 0, 'must be an IPv4 or IPv6 address'),
  method: z.enum(HTTP_METHODS),
  /** Route template, not the raw path: `/v1/contacts/:id`. */
  route: z.string().min(1).max(256).startsWith('/'),
  status: z.number().int().min(100).max(599),
  latencyMs: z.number().min(0).max(3_600_000),
  bytesIn: z.number().int().min(0),
  bytesOut: z.number().int().min(0),
  operation: z.enum(OPERATION_CLASSES),
  decision: z.enum(EDGE_DECISIONS),
  requestId: id,
  /** The limit rule or restriction that decided, when the decision is not `allowed`. */
  rule: z.string().max(128).optional(),
});

export type RequestLogEventV1 = z.infer<typeof requestLogEventV1Schema>;
export type RequestLogEvent = RequestLogEventV1;
export type OperationClass = (typeof OPERATION_CLASSES)[number];
export type EdgeDecision = (typeof EDGE_DECISIONS)[number];

export const requestLogEventSchema = z.discriminatedUnion('v', [requestLogEventV1Schema]);

export type ParsedEvent = { ok: true; event: RequestLogEvent } | { ok: false; reason: string };

const V1_KEYS = new Set(Object.keys(requestLogEventV1Schema.shape));
const REQUIRED_V1_KEYS = [...V1_KEYS].filter((k) => k !== 'rule');
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
const TS_PATTERN = z.regexes.datetime({ offset: true });
const METHODS = new Set<string>(HTTP_METHODS);
const OPERATIONS = new Set<string>(OPERATION_CLASSES);
const DECISIONS = new Set<string>(EDGE_DECISIONS);
const isId = (value: unknown): value is string => typeof value === 'string' && ID_PATTERN.test(value);
const isInt = (value: unknown, min: number, max: number) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;

/**
 * The hot path of the ingest consumer (hundreds of thousands of events a second): the same rules as
 * requestLogEventV1Schema, checked by hand. It only ever says yes to what the schema accepts (anything it is unsure
 * of returns false and goes through zod, which also produces the reason); request-log-event.spec.ts holds the two
 * equal on every field.
 */
export function isPlainValidV1(input: unknown): input is RequestLogEventV1 {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const e = input as Record<string, unknown>;
  for (const key in e) if (!V1_KEYS.has(key)) return false;
  for (const key of REQUIRED_V1_KEYS) if (!(key in e)) return false;
  return (
    e.v === 1 &&
    isId(e.eventId) &&
    typeof e.ts === 'string' &&
    TS_PATTERN.test(e.ts) &&
    isId(e.accountId) &&
    (e.tokenId === null || isId(e.tokenId)) &&
    typeof e.clientIp === 'string' &&
    isIP(e.clientIp) !== 0 &&
    typeof e.method === 'string' &&
    METHODS.has(e.method) &&
    typeof e.route === 'string' &&
    e.route.length >= 1 &&
    e.route.length <= 256 &&
    e.route.startsWith('/') &&
    isInt(e.status, 100, 599) &&
    typeof e.latencyMs === 'number' &&
    e.latencyMs >= 0 &&
    e.latencyMs <= 3_600_000 &&
    isInt(e.bytesIn, 0, Number.MAX_SAFE_INTEGER) &&
    isInt(e.bytesOut, 0, Number.MAX_SAFE_INTEGER) &&
    typeof e.operation === 'string' &&
    OPERATIONS.has(e.operation) &&
    typeof e.decision === 'string' &&
    DECISIONS.has(e.decision) &&
    isId(e.requestId) &&
    (e.rule === undefined || (typeof e.rule === 'string' && e.rule.length <= 128))
  );
}

/** Validates one event; the reason names each bad field (`status: must be ≤ 599`). */
export function parseRequestLogEvent(input: unknown): ParsedEvent {
  if (isPlainValidV1(input)) return { ok: true, event: input };
  const parsed = requestLogEventSchema.safeParse(input);
  if (parsed.success) return { ok: true, event: parsed.data };
  return { ok: false, reason: describeIssues(parsed.error) };
}

/** Parses Kafka message bytes: invalid JSON and invalid events both come back with a reason, never a throw. */
export function decodeRequestLogEvent(bytes: Buffer | string | null | undefined): ParsedEvent {
  if (bytes === null || bytes === undefined || bytes.length === 0) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `invalid JSON: ${(error as Error).message}` };
  }
  return parseRequestLogEvent(json);
}

/**
 * The events of one Kafka message. A request-log message carries one or more v1 events of one account, one JSON
 * document per line (NDJSON): the edge's producer groups each account's events of a batch into one message, other
 * producers may send one event per message, which is the same format with one line. JSON text never contains a raw
 * newline, so the lines split safely. A trailing newline is allowed; an empty message has no lines.
 */
export function requestLogLines(bytes: Buffer | null | undefined): Buffer[] {
  if (!bytes || bytes.length === 0) return [];
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(10, start);
    if (end < 0) {
      if (start < bytes.length) lines.push(bytes.subarray(start));
      return lines;
    }
    lines.push(bytes.subarray(start, end));
    start = end + 1;
  }
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`).join('; ');
}
