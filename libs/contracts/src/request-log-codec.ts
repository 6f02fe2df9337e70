import { isIP } from 'node:net';
import {
  decodeRequestLogEvent,
  EDGE_DECISIONS,
  HTTP_METHODS,
  OPERATION_CLASSES,
  type ParsedEvent,
  type RequestLogEvent,
} from './request-log-event';

/**
 * The hot paths of the request-log wire format (hundreds of thousands of events a second on each side):
 *
 * - encodeRequestLogEvent() writes an event as the edge sends it: JSON with the v1 keys in their documented order.
 * - readCanonicalRequestLogLine() reads exactly that spelling back, byte by byte, without JSON.parse and without
 *   building anything but the event. It never judges: a line it is not sure of (another key order, escapes,
 *   non-ASCII text, exponents, a value the schema would refuse) returns undefined and goes through JSON.parse and the
 *   schema, which also gives the reason. request-log-codec.spec.ts holds both paths equal.
 */

const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const str = (value: string): string => (PLAIN_STRING.test(value) ? `"${value}"` : JSON.stringify(value));
const num = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');

/**
 * The event as JSON, keys in the v1 order (docs/events.md): the same text as JSON.stringify for an event built in
 * that order, faster. Anything but a v1-shaped object (a field of another type, a v2 event) is JSON.stringify'd.
 */
export function encodeRequestLogEvent(event: RequestLogEvent): string {
  const e = event;
  if (
    e.v !== 1 ||
    typeof e.eventId !== 'string' ||
    typeof e.ts !== 'string' ||
    typeof e.accountId !== 'string' ||
    (e.tokenId !== null && typeof e.tokenId !== 'string') ||
    typeof e.clientIp !== 'string' ||
    typeof e.method !== 'string' ||
    typeof e.route !== 'string' ||
    typeof e.status !== 'number' ||
    typeof e.latencyMs !== 'number' ||
    typeof e.bytesIn !== 'number' ||
    typeof e.bytesOut !== 'number' ||
    typeof e.operation !== 'string' ||
    typeof e.decision !== 'string' ||
    typeof e.requestId !== 'string' ||
    (e.rule !== undefined && typeof e.rule !== 'string')
  ) {
    return JSON.stringify(event);
  }
  return (
    `{"v":1,"eventId":${str(e.eventId)},"ts":${str(e.ts)},"accountId":${str(e.accountId)},` +
    `"tokenId":${e.tokenId === null ? 'null' : str(e.tokenId)},"clientIp":${str(e.clientIp)},` +
    `"method":${str(e.method)},"route":${str(e.route)},"status":${num(e.status)},"latencyMs":${num(e.latencyMs)},` +
    `"bytesIn":${num(e.bytesIn)},"bytesOut":${num(e.bytesOut)},"operation":${str(e.operation)},` +
    `"decision":${str(e.decision)},"requestId":${str(e.requestId)}` +
    (e.rule === undefined ? '}' : `,"rule":${str(e.rule)}}`)
  );
}

const ID = String.raw`[\x21\x23-\x5b\x5d-\x7e]{1,128}`;
const TEXT = String.raw`[\x20\x21\x23-\x5b\x5d-\x7e]`;
/** A dotted quad as net.isIPv4 takes it (no leading zeros): needs no check after the match. */
const IPV4_OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IPV4 = String.raw`${IPV4_OCTET}(?:\.${IPV4_OCTET}){3}`;
/** Where the event id starts in a canonical line: after `{"v":1,"eventId":"`. */
const EVENT_ID_AT = '{"v":1,"eventId":"'.length;

/**
 * encodeRequestLogEvent()'s spelling of a valid event, field by field; strings without escapes, numbers without
 * exponents. What a pattern cannot say (a calendar date, an address, a number's range) is checked after the match.
 * Sticky, and ended by a newline or the end of the text: it reads one line of a message in place (no character class
 * holds a newline, so a match cannot run into the next line).
 *
 * Two spellings of the same pattern: `full` captures every field (to build the event); the other only what the checks
 * and the ingest consumer need (each capture is a string to allocate): the id, the time, the latency, and a client
 * address that is not a plain dotted quad. canonical-line tests hold the two to the same judgement.
 */
function canonicalLine(full: boolean): RegExp {
  const field = (pattern: string, keep = full) => (keep ? `(${pattern})` : `(?:${pattern})`);
  const clientIp = full ? `(${String.raw`[0-9A-Fa-f.:]{2,45}`})` : `(?:${IPV4}|(${String.raw`[0-9A-Fa-f.:]{2,45}`}))`;
  return new RegExp(
    [
      String.raw`\{"v":1,"eventId":"${field(ID, true)}"`,
      String.raw`,"ts":"(${full ? String.raw`(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])` : String.raw`\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])`}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z)"`,
      String.raw`,"accountId":"${field(ID)}"`,
      String.raw`,"tokenId":(?:null|"${field(ID)}")`,
      String.raw`,"clientIp":"${clientIp}"`,
      `,"method":"${field(HTTP_METHODS.join('|'))}"`,
      String.raw`,"route":"${field(String.raw`\/${TEXT}{0,255}`)}"`,
      String.raw`,"status":${field(String.raw`[1-5]\d\d`)}`,
      String.raw`,"latencyMs":${field(String.raw`(?:0|[1-9]\d{0,6})(?:\.\d{1,17})?`, true)}`,
      String.raw`,"bytesIn":${field(String.raw`0|[1-9]\d{0,14}`)}`,
      String.raw`,"bytesOut":${field(String.raw`0|[1-9]\d{0,14}`)}`,
      `,"operation":"${field(OPERATION_CLASSES.join('|'))}"`,
      `,"decision":"${field(EDGE_DECISIONS.join('|'))}"`,
      String.raw`,"requestId":"${field(ID)}"`,
      String.raw`(?:,"rule":"${field(`${TEXT}{0,128}`)}")?\}(?=\n|$)`,
    ].join(''),
    'y',
  );
}

/** Every field captured: 1 id, 2 ts (3–5 its date), 6 account, 7 token, 8 client, 9 method, 10 route, … 18 rule. */
const CANONICAL_LINE = canonicalLine(true);
/** Captures 1 id, 2 ts, 3 client (only when not a dotted quad), 4 latency. */
const CANONICAL_LINE_KEY = canonicalLine(false);

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A real calendar day (the pattern already bounds the month to 01–12 and nothing else). */
function isCalendarDay(year: number, month: number, day: number): boolean {
  if (day < 1 || day > DAYS_IN_MONTH[month]) return false;
  return month !== 2 || day < 29 || (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
}

const digit = (text: string, at: number): number => text.charCodeAt(at) - 48;

/** The match of a canonical valid event at `start` of `text`, ending at `end` (a newline or the end), or null. */
function matchCanonical(text: string, start: number, end: number): RegExpExecArray | null {
  CANONICAL_LINE.lastIndex = start;
  const m = CANONICAL_LINE.exec(text);
  if (m === null || CANONICAL_LINE.lastIndex !== end) return null;
  if (!isCalendarDay(Number(m[3]), Number(m[4]), Number(m[5])) || Number(m[12]) > 3_600_000 || isIP(m[8]) === 0) {
    return null;
  }
  return m;
}

/** matchCanonical's judgement with fewer captures: 1 id, 2 ts, 3 a client address to check, 4 latency. */
function matchCanonicalKey(text: string, start: number, end: number): RegExpExecArray | null {
  CANONICAL_LINE_KEY.lastIndex = start;
  const m = CANONICAL_LINE_KEY.exec(text);
  if (m === null || CANONICAL_LINE_KEY.lastIndex !== end) return null;
  const ts = m[2];
  const year = digit(ts, 0) * 1000 + digit(ts, 1) * 100 + digit(ts, 2) * 10 + digit(ts, 3);
  const month = digit(ts, 5) * 10 + digit(ts, 6);
  const day = digit(ts, 8) * 10 + digit(ts, 9);
  if (!isCalendarDay(year, month, day) || Number(m[4]) > 3_600_000 || (m[3] !== undefined && isIP(m[3]) === 0)) {
    return null;
  }
  return m;
}

/** What the ingest consumer keeps of a line until it is stored: the event's id and time. */
export interface CanonicalLineKey {
  eventId: string;
  ts: string;
}

/**
 * The id and time of the line from `start` to `end` (exclusive: a newline or the end) of `text`, a message read as
 * latin1 (one character per byte, so positions are byte offsets), if it is spelled exactly as
 * encodeRequestLogEvent() writes a valid event; undefined otherwise. The same judgement as
 * readCanonicalRequestLogLine() without building the event. The id is copied out of `bytes` (the message, whose text
 * this is): a capture can be a slice that keeps the whole text alive for as long as the id is held.
 */
export function scanCanonicalRequestLogLine(
  bytes: Buffer,
  text: string,
  start: number,
  end: number,
): CanonicalLineKey | undefined {
  const m = matchCanonicalKey(text, start, end);
  if (m === null) return undefined;
  const idAt = start + EVENT_ID_AT;
  return { eventId: bytes.toString('latin1', idAt, idAt + m[1].length), ts: m[2] };
}

/**
 * The event of a line spelled exactly as encodeRequestLogEvent() writes a valid event, or undefined for any other
 * line (which may still be valid: the caller then parses it the general way). The line is read as latin1: a byte
 * above 0x7e never matches, so non-ASCII text goes the general way too.
 */
export function readCanonicalRequestLogLine(line: Buffer): RequestLogEvent | undefined {
  const text = line.toString('latin1');
  const m = matchCanonical(text, 0, text.length);
  if (m === null) return undefined;
  const event: RequestLogEvent = {
    v: 1,
    eventId: m[1],
    ts: m[2],
    accountId: m[6],
    tokenId: m[7] ?? null,
    clientIp: m[8],
    method: m[9] as RequestLogEvent['method'],
    route: m[10],
    status: Number(m[11]),
    latencyMs: Number(m[12]),
    bytesIn: Number(m[13]),
    bytesOut: Number(m[14]),
    operation: m[15] as RequestLogEvent['operation'],
    decision: m[16] as RequestLogEvent['decision'],
    requestId: m[17],
  };
  if (m[18] !== undefined) event.rule = m[18];
  return event;
}

/** One line of a request-log message: the canonical spelling read fast, anything else parsed and validated. */
export function decodeRequestLogLine(line: Buffer): ParsedEvent {
  const event = readCanonicalRequestLogLine(line);
  return event ? { ok: true, event } : decodeRequestLogEvent(line);
}

/** The value of a request-log message holding these events (all of one account: the message key). */
export function encodeRequestLogLines(events: readonly RequestLogEvent[]): string {
  return events.map(encodeRequestLogEvent).join('\n');
}

let isoSecond = NaN;
let isoPrefix = '';

/**
 * An event's `ts` for epoch milliseconds: `new Date(ms).toISOString()`, reusing the text of the current second.
 * toISOString was the largest line of the edge's request logging in its profile; measured alone it takes ~500 ns a
 * call, this ~35 ns.
 */
export function eventTime(epochMs: number): string {
  const ms = Math.floor(epochMs);
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20); // 2026-11-24T05:58:01.
  }
  return `${isoPrefix}${String(ms - second * 1000).padStart(3, '0')}Z`;
}
