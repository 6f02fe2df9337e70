import { isUtf8 } from 'node:buffer';
import type { RequestLogEvent } from '@usageguard/contracts';

/**
 * The JSONEachRow body of an intake insert, built row by row: each event's line with
 * `,"kafka_partition":P,"kafka_offset":O}` in place of its closing `}`, so its bytes are copied once, never decoded or
 * re-encoded. One buffer, grown by doubling when a capacity guess was short.
 *
 * Neighbouring lines of one message (the common case: a message's events all new) are copied as one run and then
 * spread apart in place (copyWithin, no allocation) to make room for their suffixes: a copy per line out of another
 * buffer costs a view object and half a microsecond, which was a tenth of the consumer's thread.
 */
export class IntakeBody {
  private buffer: Buffer;
  private size = 0;
  private count = 0;
  private suffix = Buffer.alloc(0);
  private partition = -1;
  private offset = -1;
  /** The pending run: lines of `runBytes` from `runStart`, one after another, ending at each of `runEnds`. */
  private runBytes: Buffer | undefined;
  private runStart = 0;
  private readonly runEnds: number[] = [];

  /**
   * @param capacity bytes expected (the buffer grows past it if need be)
   * @param reuse a buffer a previous body is done with, used if large enough: a fresh buffer of tens of MB is paid
   *   for again in page faults as it is first written (about 0.2 µs an event)
   */
  constructor(capacity = 64 * 1024, reuse?: Buffer) {
    this.buffer = reuse && reuse.length >= capacity ? reuse : Buffer.allocUnsafe(Math.max(capacity, 1_024));
  }

  /** The whole underlying buffer, for a later body to reuse once this one's insert is over. */
  get storage(): Buffer {
    return this.buffer;
  }

  /** Rows added. */
  get rows(): number {
    return this.count + this.runEnds.length;
  }

  /**
   * A validated event's line, bytes `start` to `end` (exclusive) of `bytes`, as Kafka delivered it: it must end in `}`
   * and be UTF-8 (else addEvent).
   */
  addLine(bytes: Buffer, start: number, end: number, partition: number, offset: number): void {
    const runEnd = this.runEnds.length > 0 ? this.runEnds[this.runEnds.length - 1] : -2;
    if (bytes !== this.runBytes || start !== runEnd + 1 || partition !== this.partition || offset !== this.offset) {
      this.flushRun();
      // The events of one message share a position: one suffix for all of them.
      if (partition !== this.partition || offset !== this.offset) {
        this.partition = partition;
        this.offset = offset;
        this.suffix = Buffer.from(`,"kafka_partition":${partition},"kafka_offset":${offset}}\n`, 'latin1');
      }
      this.runBytes = bytes;
      this.runStart = start;
    }
    this.runEnds.push(end);
  }

  /** An event as JSON.stringify spells it, its time as UTC with milliseconds: what JavaScript understood. */
  addEvent(event: RequestLogEvent, partition: number, offset: number): void {
    const line = Buffer.from(JSON.stringify({ ...event, ts: new Date(event.ts).toISOString() }));
    this.addLine(line, 0, line.length, partition, offset);
  }

  /** The body: a view of the rows added so far. */
  bytes(): Buffer {
    this.flushRun();
    return this.buffer.subarray(0, this.size);
  }

  /**
   * Copies the pending run in one piece, then moves each line, last first, to where it belongs: line j moves right by
   * j × (suffix − 2) bytes (its `}` and the newline after it give way to the suffix), and its suffix follows it.
   */
  private flushRun(): void {
    const ends = this.runEnds;
    const lines = ends.length;
    if (lines === 0 || !this.runBytes) return;
    const suffix = this.suffix;
    const spread = suffix.length - 2;
    const sourceLength = ends[lines - 1] - this.runStart;
    this.reserve(sourceLength + 1 + (lines - 1) * spread + suffix.length);
    const at = this.size;
    const buffer = this.buffer;
    this.runBytes.copy(buffer, at, this.runStart, ends[lines - 1]);
    for (let j = lines - 1; j >= 0; j--) {
      const start = j === 0 ? this.runStart : ends[j - 1] + 1;
      const from = at + start - this.runStart;
      const to = from + j * spread;
      const length = ends[j] - start - 1; // without its closing brace
      if (to !== from) buffer.copyWithin(to, from, from + length);
      buffer.set(suffix, to + length);
    }
    this.size = at + sourceLength + 1 + (lines - 1) * spread + suffix.length - 2;
    this.count += lines;
    ends.length = 0;
    this.runBytes = undefined;
  }

  private reserve(bytes: number): void {
    if (this.size + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.size + bytes));
    this.buffer.copy(grown, 0, 0, this.size);
    this.buffer = grown;
  }
}

/** A validated event to store, with its line as Kafka delivered it and where that was. */
export interface IntakeRow {
  event: RequestLogEvent;
  line: Buffer;
  partition: number;
  offset: number;
}

const CLOSING_BRACE = 0x7d;

/**
 * Whether a validated event's line can go into an insert as written (IntakeBody.addLine): it must end in `}` (not in
 * trailing blanks) and be UTF-8 (else JavaScript read it with replacement characters, and ClickHouse would not).
 */
export function sendableAsWritten(line: Buffer): boolean {
  return line.length > 0 && line[line.length - 1] === CLOSING_BRACE && isUtf8(line);
}

/**
 * The body of an intake insert of these rows: each line as Kafka delivered it, unless `canonical` (a retry) or it is
 * not sendableAsWritten: then as JSON.stringify spells its event.
 */
export function intakeBody(rows: readonly IntakeRow[], canonical: boolean): IntakeBody {
  const body = new IntakeBody(rows.reduce((n, row) => n + row.line.length + 64, 0));
  for (const { event, line, partition, offset } of rows) {
    if (!canonical && sendableAsWritten(line)) body.addLine(line, 0, line.length, partition, offset);
    else body.addEvent(event, partition, offset);
  }
  return body;
}
