import { isUtf8 } from 'node:buffer';
import type { RequestLogEvent } from '@usageguard/contracts';

/**
 * The JSONEachRow body of an intake insert, built row by row: each event's line with
 * `,"kafka_partition":P,"kafka_offset":O}` in place of its closing `}`, so its bytes are copied once, never decoded or
 * re-encoded. One buffer, grown by doubling when a capacity guess was short.
 */
export class IntakeBody {
  private buffer: Buffer;
  private size = 0;
  private count = 0;
  private suffix = Buffer.alloc(0);
  private partition = -1;
  private offset = -1;

  constructor(capacity = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(Math.max(capacity, 1_024));
  }

  /** Rows added. */
  get rows(): number {
    return this.count;
  }

  /**
   * A validated event's line, bytes `start` to `end` (exclusive) of `bytes`, as Kafka delivered it: it must end in `}`
   * and be UTF-8 (else addEvent).
   */
  addLine(bytes: Buffer, start: number, end: number, partition: number, offset: number): void {
    // The events of one message are neighbours and share a position: one suffix for all of them.
    if (partition !== this.partition || offset !== this.offset) {
      this.partition = partition;
      this.offset = offset;
      this.suffix = Buffer.from(`,"kafka_partition":${partition},"kafka_offset":${offset}}\n`, 'latin1');
    }
    const length = end - start - 1; // the suffix takes the place of the closing brace
    this.reserve(length + this.suffix.length);
    bytes.copy(this.buffer, this.size, start, end - 1);
    this.size += length;
    this.buffer.set(this.suffix, this.size);
    this.size += this.suffix.length;
    this.count++;
  }

  /** An event as JSON.stringify spells it, its time as UTC with milliseconds: what JavaScript understood. */
  addEvent(event: RequestLogEvent, partition: number, offset: number): void {
    const line = Buffer.from(JSON.stringify({ ...event, ts: new Date(event.ts).toISOString() }));
    this.addLine(line, 0, line.length, partition, offset);
  }

  /** The body: a view of the rows added so far. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.size);
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
 * The body of an intake insert of these rows: each line as Kafka delivered it, unless `canonical` (a retry), or the
 * line does not end in `}` (trailing blanks) or is not UTF-8 (JavaScript read it with replacement characters): then
 * as JSON.stringify spells its event.
 */
export function intakeBody(rows: readonly IntakeRow[], canonical: boolean): IntakeBody {
  const body = new IntakeBody(rows.reduce((n, row) => n + row.line.length + 64, 0));
  for (const { event, line, partition, offset } of rows) {
    const raw = !canonical && line[line.length - 1] === CLOSING_BRACE && isUtf8(line);
    if (raw) body.addLine(line, 0, line.length, partition, offset);
    else body.addEvent(event, partition, offset);
  }
  return body;
}
