import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fastCrc32C } from './kafkajs-crc32c';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsOwn = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (buffer: Buffer) => number;
const unsigned = (value: number) => value >>> 0;

describe('kafkajs record-batch checksum', () => {
  it('gives the value kafkajs computes itself, for any bytes', () => {
    expect(fastCrc32C(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C check value
    for (const size of [0, 1, 7, 8, 9, 63, 64, 65, 1_000, 65_537, 1_048_576]) {
      const bytes = randomBytes(size);
      expect(fastCrc32C(bytes), `${size} bytes`).toBe(unsigned(kafkajsOwn(bytes)));
    }
  });

  it('is the checksum kafkajs uses', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const used = require('kafkajs/src/protocol/recordBatch/crc32C') as unknown;
    expect(used).toBe(fastCrc32C);
  });
});
