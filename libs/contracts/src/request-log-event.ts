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

/** Validates one event; the reason names each bad field (`status: must be ≤ 599`). */
export function parseRequestLogEvent(input: unknown): ParsedEvent {
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

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`).join('; ');
}
