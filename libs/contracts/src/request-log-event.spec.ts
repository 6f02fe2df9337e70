import { describe, expect, it } from 'vitest';
import {
  decodeRequestLogEvent,
  requestLogLines,
  isPlainValidV1,
  parseRequestLogEvent,
  requestLogEventSchema,
  type RequestLogEventV1,
} from './request-log-event';
import { encodeRequestLogLines } from './request-log-codec';

const valid: RequestLogEventV1 = {
  v: 1,
  eventId: 'evt-1',
  ts: '2026-03-01T10:00:00.123Z',
  accountId: 'acct-1',
  tokenId: 'tok-1',
  clientIp: '203.0.113.9',
  method: 'GET',
  route: '/v1/contacts/:id',
  status: 200,
  latencyMs: 12.5,
  bytesIn: 0,
  bytesOut: 512,
  operation: 'read',
  decision: 'allowed',
  requestId: 'req-1',
};

/** Values per field, good and bad, including the edges of every range. */
const candidates: Record<string, unknown[]> = {
  v: [1, 2, '1', 0, null],
  eventId: ['a', 'x'.repeat(128), 'x'.repeat(129), '', 'has space', 'é', 5, null],
  ts: [
    '2026-03-01T10:00:00Z',
    '2026-03-01T10:00:00.123456+02:00',
    '2024-02-29T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-03-01T10:00Z',
    '2026-03-01 10:00:00Z',
    '2026-03-01T10:00:00',
    'yesterday',
    1_700_000_000_000,
  ],
  accountId: ['acct', '', 'a b', 7],
  tokenId: [null, 'tok', '', 1, undefined],
  clientIp: ['10.0.0.1', '::1', '2001:db8::1', '999.0.0.1', 'localhost', ''],
  method: ['GET', 'OPTIONS', 'get', 'TRACE', 1],
  route: ['/', '/' + 'x'.repeat(255), '/' + 'x'.repeat(256), 'v1', '', null],
  status: [100, 599, 99, 600, 200.5, '200', Number.NaN],
  latencyMs: [0, 3_600_000, 3_600_000.5, -0.1, Number.POSITIVE_INFINITY, '1'],
  bytesIn: [0, Number.MAX_SAFE_INTEGER, 2 ** 60, -1, 1.5],
  bytesOut: [0, 10, -5, '10'],
  operation: ['read', 'admin', 'delete', ''],
  decision: ['allowed', 'restricted', 'blocked'],
  requestId: ['r', '', 'r r'],
  rule: [undefined, 'rule-1', 'x'.repeat(128), 'x'.repeat(129), 5],
  extra: [undefined, 'x'],
};

describe('request log event v1', () => {
  it('has a fast path that accepts exactly what the schema accepts, field by field', () => {
    let accepted = 0;
    for (const [field, values] of Object.entries(candidates)) {
      for (const value of values) {
        const event: Record<string, unknown> = { ...valid };
        if (value === undefined) delete event[field];
        else event[field] = value;
        const byZod = requestLogEventSchema.safeParse(event).success;
        expect(isPlainValidV1(event), `${field} = ${String(value)}`).toBe(byZod);
        expect(parseRequestLogEvent(event).ok).toBe(byZod);
        if (byZod) accepted++;
      }
    }
    expect(accepted).toBeGreaterThan(20);
  });

  it('names the field and the rule in the reason', () => {
    const result = parseRequestLogEvent({ ...valid, status: 700, clientIp: 'nope' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain('status:');
      expect(result.reason).toContain('clientIp: must be an IPv4 or IPv6 address');
    }
  });

  it('decodes bytes, and explains empty or broken messages instead of throwing', () => {
    expect(decodeRequestLogEvent(Buffer.from(JSON.stringify(valid)))).toEqual({ ok: true, event: valid });
    expect(decodeRequestLogEvent(null)).toEqual({ ok: false, reason: 'empty message' });
    const broken = decodeRequestLogEvent('{"v":');
    expect(broken.ok).toBe(false);
  });

  it('reads one or more events per message, one JSON document per line', () => {
    const a = { ...valid, eventId: 'a', route: '/v1/notes\nwith a newline in a value' };
    const b = { ...valid, eventId: 'b' };
    const value = Buffer.from(encodeRequestLogLines([a, b]));
    const lines = requestLogLines(value);
    expect(lines.map((line) => decodeRequestLogEvent(line))).toEqual([
      { ok: true, event: a },
      { ok: true, event: b },
    ]);
    expect(requestLogLines(Buffer.from(JSON.stringify(a)))).toHaveLength(1); // a single-event message
    expect(requestLogLines(Buffer.from(`${JSON.stringify(a)}\n`))).toHaveLength(1); // a trailing newline
    expect(requestLogLines(Buffer.alloc(0))).toEqual([]);
    expect(requestLogLines(null)).toEqual([]);
    expect(requestLogLines(Buffer.from('x\n\ny')).map(String)).toEqual(['x', '', 'y']); // an empty line is a bad event
  });
});
