import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import './kafkajs-encoder';

/* eslint-disable @typescript-eslint/no-require-imports */
const encoderModule = require('kafkajs/src/protocol/encoder.js') as { unzeroed?: boolean };
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (request: unknown) => {
  encode(): Promise<{ buffer: Buffer }>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** A produce request like the edge's: NDJSON values of a few KB, keys, a header; fixed timestamps. */
async function encodeProduce(): Promise<Buffer> {
  const messages = Array.from({ length: 300 }, (_, i) => ({
    key: `acct-${i % 40}`,
    value: Array.from(
      { length: 1 + (i % 17) },
      (_, j) => `{"eventId":"e-${i}-${j}","pad":"${'x'.repeat(i % 300)}"}`,
    ).join('\n'),
    headers: { 'event-version': '1' },
    timestamp: String(1_795_000_000_000 + i),
  }));
  const request = produceRequest({
    acks: -1,
    timeout: 30_000,
    topicData: [0, 1, 2].map((partition) => ({
      topic: 'request-logs',
      partitions: [{ partition, firstSequence: 0, messages: messages.filter((_, i) => i % 3 === partition) }],
    })),
  });
  return Buffer.from((await request.encode()).buffer);
}

describe('kafkajs encoder without zero-filling', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the encoder kafkajs uses', () => {
    expect(encoderModule.unzeroed).toBe(true);
  });

  it('encodes the same bytes whatever the fresh buffers held', async () => {
    // Every buffer the encoder takes comes filled with a given byte: zeros, as kafkajs's own encoder has them, or
    // garbage. A byte the encoder exposed without writing it would make the requests differ.
    let filled = 0;
    const encodeWith = async (fill: number) => {
      const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => Buffer.alloc(size, fill));
      try {
        return await encodeProduce();
      } finally {
        filled += spy.mock.calls.length;
        vi.restoreAllMocks();
      }
    };
    // Compared by digest: toEqual walks half a megabyte of Buffer element by element, seconds under load.
    const digest = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
    const zeroed = await encodeWith(0x00);
    expect(zeroed.length).toBeGreaterThan(100_000);
    expect(digest(await encodeWith(0xaa))).toBe(digest(zeroed));
    expect(digest(await encodeWith(0x55))).toBe(digest(zeroed));
    expect(filled).toBeGreaterThan(300 * 3);
    expect(digest(await encodeProduce())).toBe(digest(zeroed));
  });
});
