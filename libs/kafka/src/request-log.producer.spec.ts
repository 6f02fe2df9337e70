import { describe, expect, it } from 'vitest';
import { type RequestLogEvent, requestLogLines } from '@usageguard/contracts';
import type { Producer, ProducerRecord } from 'kafkajs';
import type { KafkaRepository } from './kafka.repository';
import { RequestLogProducer, type RequestLogProducerOptions } from './request-log.producer';

const event = (i: number): RequestLogEvent => ({
  v: 1,
  eventId: `e-${i}`,
  ts: '2026-01-01T00:00:00.000Z',
  accountId: `acct-${i % 3}`,
  tokenId: null,
  clientIp: '10.0.0.1',
  method: 'GET',
  route: '/v1/things',
  status: 200,
  latencyMs: 3,
  bytesIn: 0,
  bytesOut: 10,
  operation: 'read',
  decision: 'allowed',
  requestId: `r-${i}`,
});

/** A stand-in for kafkajs: records what was sent; `down` makes sends fail, `gate` holds them until released. */
class FakeProducer {
  records: ProducerRecord[] = [];
  down = false;
  gate: Promise<void> | undefined;
  connect = () => Promise.resolve();
  disconnect = () => Promise.resolve();
  send = async (record: ProducerRecord) => {
    await this.gate;
    if (this.down) throw new Error('broker unreachable');
    this.records.push(record);
    return [];
  };
  get messages() {
    return this.records.flatMap((r) => r.messages);
  }
  /** Every event sent, message by message, line by line. */
  get events(): RequestLogEvent[] {
    return this.messages.flatMap((m) =>
      requestLogLines(Buffer.from(String(m.value))).map((line) => JSON.parse(line.toString()) as RequestLogEvent),
    );
  }
  get eventIds(): string[] {
    return this.events.map((e) => e.eventId).sort();
  }
}

function setup(options: Partial<RequestLogProducerOptions> = {}, topicMaxMessageBytes?: number) {
  const fake = new FakeProducer();
  const kafka = {
    topic: (name: string) => `t-${name}`,
    producer: () => fake as unknown as Producer,
    maxMessageBytes: () => Promise.resolve(topicMaxMessageBytes),
  };
  const producer = new RequestLogProducer(kafka as unknown as KafkaRepository, {
    lingerMs: 5,
    retryMinMs: 5,
    retryMaxMs: 10,
    ...options,
  });
  return { fake, producer };
}

describe('RequestLogProducer', () => {
  it('batches events by size and linger time, one message per account keyed by it, acks from all replicas', async () => {
    const { fake, producer } = setup({ batchSize: 4 });
    for (let i = 0; i < 10; i++) producer.enqueue(event(i));
    await producer.flush();
    // Batches of 4, 4 and 2 events; within each, one message per account (acct-0..2), its events as lines in order.
    expect(fake.records.map((r) => r.messages.length)).toEqual([3, 3, 2]);
    expect(fake.records.every((r) => r.acks === -1 && r.topic === 't-request-logs')).toBe(true);
    for (const message of fake.messages) {
      const lines = requestLogLines(Buffer.from(String(message.value))).map(
        (line) => JSON.parse(line.toString()) as RequestLogEvent,
      );
      expect(lines.every((e) => e.accountId === message.key)).toBe(true);
      const order = lines.map((e) => Number(e.eventId.slice(2)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    expect(fake.messages.map((m) => String(m.value).split('\n').length)).toEqual([2, 1, 1, 2, 1, 1, 1, 1]);
    expect(fake.events.find((e) => e.eventId === 'e-7')).toEqual(event(7));
    expect(fake.eventIds).toEqual(Array.from({ length: 10 }, (_, i) => `e-${i}`).sort());
    expect(producer.stats()).toMatchObject({ queued: 0, inFlight: 0, sent: 10, shed: 0, failed: 0 });
  });

  it('keeps every produce request under the byte bound, even when one account (one partition) sends everything', async () => {
    const { fake, producer } = setup({ batchSize: 1_000, maxRequestBytes: 10_000 });
    const hot = (i: number) => ({ ...event(i), accountId: 'acct-hot' });
    for (let i = 0; i < 300; i++) producer.enqueue(hot(i));
    await producer.flush();
    await producer.send(Array.from({ length: 300 }, (_, i) => hot(1_000 + i)));
    const sizes = fake.records.map((r) => r.messages.reduce((sum, m) => sum + String(m.value).length + 72, 0));
    expect(fake.records.length).toBeGreaterThan(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10_000);
    expect(fake.events).toHaveLength(600);
    expect(producer.stats()).toMatchObject({ sent: 300, queued: 0 });
  });

  it("keeps produce requests within the topic's record-batch limit, or the broker's default when unknown", async () => {
    const requestSizes = async (topicMaxMessageBytes: number | undefined) => {
      const { fake, producer } = setup({ batchSize: 100_000, maxRequestBytes: 7_000_000 }, topicMaxMessageBytes);
      await producer.send(Array.from({ length: 20_000 }, (_, i) => ({ ...event(i), accountId: 'acct-hot' })));
      return fake.records.map((r) => r.messages.reduce((sum, m) => sum + String(m.value).length + 72, 0));
    };
    const small = await requestSizes(100_000);
    expect(small.length).toBeGreaterThan(50);
    expect(Math.max(...small)).toBeLessThanOrEqual(85_000);
    expect(Math.max(...(await requestSizes(undefined)))).toBeLessThanOrEqual(1_048_588 * 0.85);
    // A topic made by ensureTopics (8 MiB): a request holds the whole call, up to maxRequestBytes.
    expect(await requestSizes(8 * 1024 * 1024)).toHaveLength(1);
  });

  it('sheds the newest events beyond the bound and counts them, without throwing or blocking', async () => {
    const { fake, producer } = setup({ maxQueued: 5, batchSize: 100 });
    let release!: () => void;
    fake.gate = new Promise((resolve) => (release = resolve));
    for (let i = 0; i < 8; i++) producer.enqueue(event(i));
    expect(producer.stats()).toMatchObject({ queued: 5, shed: 3 });
    await new Promise((r) => setTimeout(r, 20)); // the batch is now in flight and still counts against the bound
    producer.enqueue(event(99));
    expect(producer.stats()).toMatchObject({ queued: 0, inFlight: 5, shed: 4 });
    release();
    await producer.flush();
    expect(fake.eventIds).toEqual(['e-0', 'e-1', 'e-2', 'e-3', 'e-4']);
    expect(producer.stats()).toMatchObject({ sent: 5, shed: 4 });
  });

  it('retries a failed batch in order until Kafka is back', async () => {
    const { fake, producer } = setup({ batchSize: 3 });
    fake.down = true;
    for (let i = 0; i < 5; i++) producer.enqueue(event(i));
    const flushed = producer.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(producer.stats().sendErrors).toBeGreaterThan(1);
    expect(producer.stats().sent).toBe(0);
    fake.down = false;
    await flushed;
    expect(fake.eventIds).toEqual(['e-0', 'e-1', 'e-2', 'e-3', 'e-4']);
    expect(producer.stats()).toMatchObject({ sent: 5, queued: 0, failed: 0 });
  });

  it('counts what is still undelivered at shutdown as failed and sheds anything enqueued afterwards', async () => {
    const { fake, producer } = setup({ shutdownTimeoutMs: 30 });
    fake.down = true;
    for (let i = 0; i < 4; i++) producer.enqueue(event(i));
    await producer.onModuleDestroy();
    producer.enqueue(event(5));
    expect(producer.stats()).toMatchObject({ sent: 0, failed: 4, shed: 1, queued: 0, inFlight: 0 });
  });

  it('send() resolves after the acknowledgement and rejects when Kafka is unavailable', async () => {
    const { fake, producer } = setup();
    await producer.send([event(1), event(2), event(4)]);
    expect(fake.messages.map((m) => m.key)).toEqual(['acct-1', 'acct-2']);
    expect(fake.eventIds).toEqual(['e-1', 'e-2', 'e-4']);
    fake.down = true;
    await expect(producer.send([event(3)])).rejects.toThrow('broker unreachable');
  });
});
