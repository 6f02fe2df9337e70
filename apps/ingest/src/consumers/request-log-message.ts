import { decodeRequestLogLine, type RequestLogEvent, scanCanonicalRequestLogLine } from '@usageguard/contracts';
import type { KafkaMessage } from '@usageguard/kafka';
import { type IntakeBody, sendableAsWritten } from '../services/intake-body';
import { eventSecond } from '../services/recent-event-ids';

export interface DeadLetter {
  partition: number;
  message: KafkaMessage;
  reason: string;
}

/** A line the canonical reader did not take but the general path accepted: its event, and whether its bytes can go raw. */
interface GeneralLine {
  event: RequestLogEvent;
  raw: boolean;
}

/**
 * A message read as it arrived: what a flush needs of its valid events (id, event second, where the line is in the
 * message's bytes) and its bad lines. Nothing else is kept per event until the flush (no line buffer, no event
 * object): all of it would outlive several young-generation collections, each of which copies what is alive.
 */
export interface DecodedMessage {
  partition: number;
  offset: number;
  /** The message's bytes as Kafka delivered them (kafkajs holds them until the batch is done anyway). */
  value: Buffer;
  lines: number;
  ids: string[];
  seconds: number[];
  /** Per valid event, its line's start and end (exclusive) in `value`. */
  bounds: number[];
  /** The few valid events that did not come in the canonical spelling, by their index in `ids`. */
  general: Map<number, GeneralLine> | undefined;
  dead: DeadLetter[];
}

const NEWLINE = 10;

/**
 * One message holds one or more events of one account (NDJSON, split as requestLogLines() does); a bad line is
 * dead-lettered on its own. The message is read as latin1 once and each canonical line matched in place.
 */
export function decodeMessage(partition: number, message: KafkaMessage): DecodedMessage {
  const value = message.value ?? Buffer.alloc(0);
  const decoded: DecodedMessage = {
    partition,
    offset: Number(message.offset),
    value,
    lines: 0,
    ids: [],
    seconds: [],
    bounds: [],
    general: undefined,
    dead: [],
  };
  if (value.length === 0) {
    decoded.dead.push({ partition, message, reason: 'empty message' });
    return decoded;
  }
  const text = value.toString('latin1');
  const ends: number[] = [];
  for (let start = 0; start < value.length;) {
    const newline = value.indexOf(NEWLINE, start);
    const end = newline < 0 ? value.length : newline;
    ends.push(end);
    start = end + 1;
  }
  decoded.lines = ends.length;
  let start = 0;
  for (let i = 0; i < ends.length; start = ends[i] + 1, i++) {
    const end = ends[i];
    const key = scanCanonicalRequestLogLine(value, text, start, end);
    if (key) {
      decoded.ids.push(key.eventId);
      decoded.seconds.push(eventSecond(key.ts));
      decoded.bounds.push(start, end);
      continue;
    }
    const line = value.subarray(start, end);
    const parsed = decodeRequestLogLine(line);
    if (parsed.ok) {
      (decoded.general ??= new Map()).set(decoded.ids.length, { event: parsed.event, raw: sendableAsWritten(line) });
      decoded.ids.push(parsed.event.eventId);
      decoded.seconds.push(eventSecond(parsed.event.ts));
      decoded.bounds.push(start, end);
    } else {
      const reason = ends.length > 1 ? `line ${i + 1} of ${ends.length}: ${parsed.reason}` : parsed.reason;
      decoded.dead.push({ partition, message: ends.length > 1 ? { ...message, value: line } : message, reason });
    }
  }
  return decoded;
}

/** Valid event `i` of a message, parsed again (only the rare paths need the whole event: lookups, repairs, retries). */
export function eventOf(message: DecodedMessage, i: number): RequestLogEvent {
  const general = message.general?.get(i);
  if (general) return general.event;
  const line = message.value.subarray(message.bounds[2 * i], message.bounds[2 * i + 1]);
  const parsed = decodeRequestLogLine(line);
  if (!parsed.ok) throw new Error(`a line read before no longer reads: ${parsed.reason}`);
  return parsed.event;
}

/** Adds valid event `i` of a message to an insert: its own bytes where they can go raw, else as JavaScript read it. */
export function addToBody(body: IntakeBody, message: DecodedMessage, i: number, canonical: boolean): void {
  const general = message.general?.get(i);
  if (canonical || (general && !general.raw)) {
    body.addEvent(eventOf(message, i), message.partition, message.offset);
  } else {
    body.addLine(message.value, message.bounds[2 * i], message.bounds[2 * i + 1], message.partition, message.offset);
  }
}
