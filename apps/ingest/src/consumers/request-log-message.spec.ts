import {
  decodeRequestLogLine,
  encodeRequestLogEvent,
  type RequestLogEvent,
  requestLogLines,
} from '@usageguard/contracts';
import type { KafkaMessage } from '@usageguard/kafka';
import { describe, expect, it } from 'vitest';
import { IntakeBody, intakeBody, type IntakeRow } from '../services/intake-body';
import { eventSecond } from '../services/recent-event-ids';
import { addToBody, decodeMessage, eventOf } from './request-log-message';

const event = (i: number): RequestLogEvent => ({
  v: 1,
  eventId: i % 2 === 0 ? `evt-${i}` : `0b6f5a2e-8c1d-4e8a-9f3b-${String(i).padStart(12, '0')}`,
  ts: new Date(Date.UTC(2026, 10, 24) + i * 1_337).toISOString(),
  accountId: 'acct-1',
  tokenId: i % 3 === 0 ? null : `tok-${i % 4}`,
  clientIp: i % 5 === 0 ? '2001:db8::7' : `10.0.0.${i % 250}`,
  method: 'GET',
  route: '/v1/things/:id',
  status: 200,
  latencyMs: i + 0.25,
  bytesIn: i,
  bytesOut: 2 * i,
  operation: 'read',
  decision: 'allowed',
  requestId: `req-${i}`,
  ...(i % 4 === 0 ? { rule: 'token:60/min' } : {}),
});

/** Lines of every kind a message can hold: canonical, valid in another spelling, not raw-safe, invalid. */
function line(i: number): Buffer {
  const e = event(i);
  switch (i % 9) {
    case 1: {
      // other key order and an escape: the general path
      const { requestId, ...rest } = e;
      return Buffer.from(JSON.stringify({ requestId, ...rest, route: '/v1/"q"' }));
    }
    case 2: // trailing blanks: valid, but not sent as written
      return Buffer.from(`${encodeRequestLogEvent(e)}  `);
    case 3: {
      // not UTF-8: valid once decoded with a replacement character, never sent raw
      const bytes = Buffer.from(encodeRequestLogEvent({ ...e, route: '/v1/X' }));
      bytes[bytes.indexOf('/v1/X') + 4] = 0xff;
      return bytes;
    }
    case 4:
      return Buffer.from('{"v":1,"eventId":"broken"');
    case 5:
      return Buffer.alloc(0);
    case 6: // a time with an offset: valid, general path, raw
      return Buffer.from(encodeRequestLogEvent({ ...e, ts: '2026-11-24T13:00:00.000+01:00' }));
    default:
      return Buffer.from(encodeRequestLogEvent(e));
  }
}

const message = (value: Buffer, offset: number): KafkaMessage => ({
  key: Buffer.from('acct-1'),
  value,
  offset: String(offset),
  timestamp: '0',
  attributes: 0,
  headers: {},
});

describe('request-log message decoding', () => {
  it('finds the same events, lines and dead letters as reading line by line, and builds the same insert', () => {
    const seen = { canonical: 0, generalRaw: 0, generalNotRaw: 0, dead: 0 };
    for (let n = 0; n < 300; n++) {
      const count = 1 + (n % 12);
      const lines = Array.from({ length: count }, (_, k) => line(n * 7 + k));
      const parts: Buffer[] = [];
      lines.forEach((l, k) => parts.push(...(k > 0 ? [Buffer.from('\n'), l] : [l])));
      if (n % 5 === 0) parts.push(Buffer.from('\n')); // a trailing newline adds no line
      const value = Buffer.concat(parts);
      const decoded = decodeMessage(3, message(value, 40 + n));

      // The reference: split into lines, each decoded on its own.
      const reference = requestLogLines(value).map((l) => ({ line: l, parsed: decodeRequestLogLine(l) }));
      const valid = reference.filter((r) => r.parsed.ok);
      expect(decoded.lines).toBe(reference.length);
      expect(decoded.ids).toEqual(valid.map((r) => (r.parsed.ok ? r.parsed.event.eventId : '')));
      expect(decoded.seconds).toEqual(valid.map((r) => (r.parsed.ok ? eventSecond(r.parsed.event.ts) : 0)));
      expect(decoded.ids.map((_, i) => eventOf(decoded, i))).toEqual(
        valid.map((r) => (r.parsed.ok ? r.parsed.event : {})),
      );
      expect(decoded.dead.map((d) => d.reason)).toEqual(
        reference
          .map((r, k) =>
            r.parsed.ok
              ? undefined
              : reference.length > 1
                ? `line ${k + 1} of ${reference.length}: ${r.parsed.reason}`
                : r.parsed.reason,
          )
          .filter((reason) => reason !== undefined),
      );

      for (let i = 0; i < decoded.ids.length; i++) {
        const general = decoded.general?.get(i);
        if (!general) seen.canonical++;
        else if (general.raw) seen.generalRaw++;
        else seen.generalNotRaw++;
      }
      seen.dead += decoded.dead.length;

      for (const canonical of [false, true]) {
        const rows: IntakeRow[] = valid.map((r) => ({
          event: r.parsed.ok ? r.parsed.event : event(0),
          line: r.line,
          partition: 3,
          offset: 40 + n,
        }));
        const body = new IntakeBody(16); // far too small: grows
        for (let i = 0; i < decoded.ids.length; i++) addToBody(body, decoded, i, canonical);
        expect(body.rows).toBe(rows.length);
        expect(body.bytes().toString('latin1')).toBe(intakeBody(rows, canonical).bytes().toString('latin1'));
      }
    }
    // Every kind of line was met.
    expect(Math.min(seen.canonical, seen.generalRaw, seen.generalNotRaw, seen.dead)).toBeGreaterThan(50);
  });

  it('builds the same insert in a buffer a previous insert used', () => {
    const lines = [0, 2, 4, 6].map((i) => encodeRequestLogEvent(event(i)));
    const decoded = decodeMessage(1, message(Buffer.from(lines.join('\n')), 5));
    const build = (reuse?: Buffer) => {
      const body = new IntakeBody(1_024, reuse);
      for (let i = 0; i < decoded.ids.length; i++) addToBody(body, decoded, i, false);
      return body;
    };
    const fresh = build().bytes().toString();
    const spare = Buffer.alloc(4_096, 0xaa);
    const reused = build(spare);
    expect(reused.storage).toBe(spare); // large enough: taken as it is
    expect(reused.bytes().toString()).toBe(fresh);
    expect(build(Buffer.alloc(16)).bytes().toString()).toBe(fresh); // too small: a new one
  });

  it('dead-letters an empty message whole', () => {
    const decoded = decodeMessage(0, message(Buffer.alloc(0), 1));
    expect(decoded.ids).toEqual([]);
    expect(decoded.dead.map((d) => d.reason)).toEqual(['empty message']);
  });

  it('sends each line as Kafka delivered it, its position in place of the closing brace', () => {
    const lines = [encodeRequestLogEvent(event(0)), encodeRequestLogEvent(event(1))];
    const decoded = decodeMessage(2, message(Buffer.from(lines.join('\n')), 17));
    const body = new IntakeBody();
    addToBody(body, decoded, 1, false);
    addToBody(body, decoded, 0, false);
    expect(body.bytes().toString()).toBe(
      lines
        .reverse()
        .map((l) => `${l.slice(0, -1)},"kafka_partition":2,"kafka_offset":17}\n`)
        .join(''),
    );
  });
});
