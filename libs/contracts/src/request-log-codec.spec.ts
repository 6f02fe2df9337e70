import { describe, expect, it } from 'vitest';
import {
  encodeRequestLogEvent,
  eventTime,
  readCanonicalRequestLogLine,
  scanCanonicalRequestLogLine,
} from './request-log-codec';
import { decodeRequestLogEvent, type RequestLogEvent, requestLogLines } from './request-log-event';

/** A small seeded generator (mulberry32), so a failure names a case that can be replayed. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  return { next, pick };
}

const validEvent = (i: number): RequestLogEvent => ({
  v: 1,
  eventId: `evt-${i}`,
  ts: new Date(Date.UTC(2026, 10, 24) + i * 997).toISOString(),
  accountId: `acct-${i % 7}`,
  tokenId: i % 3 === 0 ? null : `tok-${i % 5}`,
  clientIp: i % 4 === 0 ? `2001:db8::${i % 100}` : `10.${i % 256}.0.${i % 200}`,
  method: i % 2 === 0 ? 'GET' : 'POST',
  route: '/v1/contacts/:id',
  status: i % 10 === 0 ? 429 : 200,
  latencyMs: i % 3 === 0 ? i % 1000 : (i % 1000) + 0.25,
  bytesIn: i % 512,
  bytesOut: (i * 7) % 5_000,
  operation: i % 2 === 0 ? 'read' : 'write',
  decision: i % 10 === 0 ? 'limited' : 'allowed',
  requestId: `req-${i}`,
  ...(i % 10 === 0 ? { rule: 'token:60/min' } : {}),
});

/** Values of every field that the schema accepts or refuses, spelled plainly or needing escapes. */
const variants: { [K in keyof RequestLogEvent]-?: unknown[] } = {
  v: [1, 2, '1', 1.0],
  eventId: ['e', 'x'.repeat(128), 'x'.repeat(129), '', 'has space', 'quote"d', 'back\\slash', 'é', '\u0000', 'a\nb'],
  ts: [
    '2026-11-24T12:00:00.000Z',
    '2024-02-29T00:00:00.000Z',
    '2026-02-29T00:00:00.000Z',
    '2000-02-29T23:59:59.999Z',
    '1900-02-29T00:00:00.000Z',
    '2026-04-31T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-11-24T24:00:00.000Z',
    '2026-11-24T12:00:60.000Z',
    '2026-11-24T12:00:00Z',
    '2026-11-24T12:00:00.5Z',
    '2026-11-24T13:00:00.000+01:00',
    '0000-01-01T00:00:00.000Z',
    'yesterday',
  ],
  accountId: ['a', 'acct-1', ' ', 'a"b', 'x'.repeat(128), 'x'.repeat(129)],
  tokenId: [null, 'tok', '', 'tok en'],
  clientIp: [
    '10.0.0.1',
    '255.255.255.255',
    '0.0.0.0',
    '010.0.0.1',
    '1.2.3.04',
    '1.2.3.4.5',
    '256.0.0.1',
    '25.5.0.1',
    '::1',
    '2001:db8::1',
    'fe80::1%eth0',
    '10.0.0',
    'abc',
    '',
  ],
  method: ['GET', 'get', 'OPTIONS', 'TRACE', ''],
  route: ['/', '/v1/x', 'v1/x', '', `/${'r'.repeat(255)}`, `/${'r'.repeat(256)}`, '/with space', '/quo"te', '/é'],
  status: [100, 599, 99, 600, 200.5, -200, 0, 1e2],
  latencyMs: [0, 0.5, 3_600_000, 3_600_000.5, -1, 1e-7, 0.1 + 0.2, 123456.789, Number.NaN, Number.POSITIVE_INFINITY],
  bytesIn: [0, 1, 2 ** 53 - 1, 2 ** 53, -1, 1.5, 999_999_999_999_999, 1e21],
  bytesOut: [0, 7, 2 ** 53 - 1, -3],
  operation: ['read', 'admin', 'other', 'READ', ''],
  decision: ['allowed', 'restricted', 'blocked'],
  requestId: ['r', 'req"1', 'x'.repeat(128), 'x'.repeat(129)],
  rule: [undefined, '', 'ip:100/min', 'r'.repeat(128), 'r'.repeat(129), 'with "quote"', 'tab\there'],
};

/** The fast reader may decline any line, but what it reads must be exactly what JSON.parse and the schema read. */
function expectAgreement(line: string): RequestLogEvent | undefined {
  const fast = readCanonicalRequestLogLine(Buffer.from(line));
  if (fast !== undefined) expect(decodeRequestLogEvent(Buffer.from(line))).toEqual({ ok: true, event: fast });
  // The consumer's scan (fewer captures) judges every line as the reader does.
  const bytes = Buffer.from(line, 'latin1');
  const key = scanCanonicalRequestLogLine(bytes, bytes.toString('latin1'), 0, bytes.length);
  if (!line.includes('\n')) expect(key, line).toEqual(fast && { eventId: fast.eventId, ts: fast.ts });
  return fast;
}

describe('request-log codec', () => {
  it('encodes an event as JSON.stringify does, keys in the v1 order', () => {
    for (let i = 0; i < 200; i++) {
      const event = validEvent(i);
      expect(encodeRequestLogEvent(event)).toBe(JSON.stringify(event));
    }
    for (const [field, values] of Object.entries(variants)) {
      for (const value of values) {
        const event = { ...validEvent(1), [field]: value } as RequestLogEvent;
        expect(encodeRequestLogEvent(event), `${field} = ${String(value)}`).toBe(JSON.stringify(event));
      }
    }
  });

  it('reads back every valid event it encodes, without JSON.parse', () => {
    for (let i = 0; i < 500; i++) {
      const event = validEvent(i);
      expect(readCanonicalRequestLogLine(Buffer.from(encodeRequestLogEvent(event)))).toEqual(event);
    }
  });

  it('agrees with the schema on every field value, or leaves the line to it', () => {
    let read = 0;
    let declinedValid = 0;
    for (const [field, values] of Object.entries(variants)) {
      for (const value of values) {
        const line = encodeRequestLogEvent({ ...validEvent(3), [field]: value });
        if (expectAgreement(line)) read++;
        else if (decodeRequestLogEvent(Buffer.from(line)).ok) declinedValid++;
      }
    }
    // Both kinds happen: plain values are read fast, escapes and offsets are left to the general path.
    expect(read).toBeGreaterThan(40);
    expect(declinedValid).toBeGreaterThan(5);
  });

  it('agrees with the schema on lines mangled byte by byte', () => {
    const { next, pick } = random(20261124);
    const alphabet = '{}[]",:.-+0123456789eEnulltrfsa \\/Z T\u00e9\u0000\n'.split('');
    let read = 0;
    for (let n = 0; n < 20_000; n++) {
      const chars = encodeRequestLogEvent(validEvent(n)).split('');
      for (let k = 1 + Math.floor(next() * 3); k > 0; k--) {
        const at = Math.floor(next() * chars.length);
        const edit = next();
        if (edit < 0.4) chars[at] = pick(alphabet);
        else if (edit < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, pick(alphabet));
      }
      if (expectAgreement(chars.join(''))) read++;
    }
    expect(read).toBeGreaterThan(1_000); // many mangled lines are still valid events (a digit for a digit)
  });

  it('reads a line in place within a message as it reads the line alone', () => {
    const { next, pick } = random(7);
    const alphabet = '{}",:.0123456789 \\Z\n'.split('');
    let read = 0;
    for (let n = 0; n < 2_000; n++) {
      const lines = Array.from({ length: 1 + Math.floor(next() * 8) }, (_, k) => {
        const chars = encodeRequestLogEvent(validEvent(n * 8 + k)).split('');
        if (next() < 0.3) chars[Math.floor(next() * chars.length)] = pick(alphabet);
        return chars.join('');
      });
      const value = Buffer.from(lines.join('\n'), 'latin1');
      const text = value.toString('latin1');
      let start = 0;
      for (const line of requestLogLines(value)) {
        const alone = readCanonicalRequestLogLine(line);
        const inPlace = scanCanonicalRequestLogLine(value, text, start, start + line.length);
        expect(inPlace, line.toString('latin1')).toEqual(alone && { eventId: alone.eventId, ts: alone.ts });
        if (inPlace) read++;
        start += line.length + 1;
      }
    }
    expect(read).toBeGreaterThan(5_000);
  });

  it('spells an event time as toISOString does', () => {
    const { next } = random(11);
    let ms = Date.UTC(2026, 10, 24, 23, 59, 58, 990);
    for (let n = 0; n < 5_000; n++) {
      ms += Math.floor(next() * 30); // through second, minute, hour and day boundaries
      expect(eventTime(ms)).toBe(new Date(ms).toISOString());
    }
    for (let n = 0; n < 1_000; n++) {
      const at = next() * Date.UTC(2100, 0, 1);
      expect(eventTime(at)).toBe(new Date(Math.floor(at)).toISOString());
    }
    expect(eventTime(Date.UTC(2026, 11, 31, 23, 59, 59, 999) + 1)).toBe('2027-01-01T00:00:00.000Z');
  });

  it('declines lines that are not exactly one canonical event', () => {
    const line = encodeRequestLogEvent(validEvent(1));
    for (const other of [
      `${line} `,
      ` ${line}`,
      `${line}\n`,
      line.replace('"v":1', '"v":1.0'),
      line.replace('{"v":1,', '{ "v":1,'),
      line.replace('"bytesIn":', '"bytesIn":0'),
      line.replace('}', ',"extra":1}'),
      JSON.stringify({ ...JSON.parse(line), v: undefined, ts: '2026-11-24T12:00:00.000Z', w: 1 }),
    ]) {
      expect(readCanonicalRequestLogLine(Buffer.from(other)), other).toBeUndefined();
    }
    expect(readCanonicalRequestLogLine(Buffer.from(line))).toBeDefined();
  });
});
