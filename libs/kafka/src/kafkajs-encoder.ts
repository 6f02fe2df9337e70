import { Buffer } from 'node:buffer';

/**
 * kafkajs encodes every protocol request with its Encoder, which allocates a zero-filled buffer for each encoder
 * (one per record, one per record header, one per record batch…) and again, zero-filled, each time one grows. The
 * producer's request-log path allocates several per record. Every byte an Encoder exposes was written first (its
 * `buffer` is `buf.slice(0, offset)`, and all writes are sequential from offset), so the zero-filling buys nothing:
 * this registers, in place of kafkajs's module and before kafkajs loads it, the same class whose buffers come from
 * Buffer.allocUnsafe (small ones out of Node's shared pool instead of a new ArrayBuffer each). kafkajs-encoder.spec.ts
 * checks kafkajs gets it and that requests encode to the same bytes.
 */
const KAFKAJS_ENCODER = require.resolve('kafkajs/src/protocol/encoder.js');

interface EncoderInstance {
  buf: Buffer;
  offset: number;
}
type EncoderClass = (new (initialSize?: number) => EncoderInstance) & { nextPowerOfTwo(value: number): number };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const original = require(KAFKAJS_ENCODER) as EncoderClass;

if (!(original as unknown as { unzeroed?: boolean }).unzeroed) {
  const nextPowerOfTwo = (value: number): number => 1 << (31 - Math.clz32(value) + 1);
  // A plain constructor sharing the original's prototype (and, through its own prototype, its static methods): the
  // class's own constructor would allocate a zero-filled buffer first.
  function Encoder(this: EncoderInstance, initialSize = 511): void {
    this.buf = Buffer.allocUnsafe(nextPowerOfTwo(initialSize));
    this.offset = 0;
  }
  Encoder.prototype = original.prototype as EncoderInstance;
  Object.setPrototypeOf(Encoder, original);
  Object.defineProperty(Encoder, 'unzeroed', { value: true });
  (original.prototype as unknown as { ensureAvailable(length: number): void }).ensureAvailable = function (
    this: EncoderInstance,
    length: number,
  ): void {
    if (this.offset + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
  require.cache[KAFKAJS_ENCODER]!.exports = Encoder;
}
