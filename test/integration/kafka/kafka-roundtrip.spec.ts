import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaRepository, REQUEST_LOG_MAX_MESSAGE_BYTES } from '@usageguard/kafka';
import { createTestEnvironment, type TestEnvironment, waitFor } from '@usageguard/testing';

describe('Kafka (real broker, KRaft)', () => {
  let env: TestEnvironment;
  let kafka: KafkaRepository;

  beforeAll(async () => {
    env = await createTestEnvironment();
    kafka = new KafkaRepository(env.config);
  });

  afterAll(async () => {
    await kafka?.onModuleDestroy();
    await env?.cleanup();
  });

  it('creates topics through the admin API and round-trips keyed messages through a consumer group', async () => {
    const created = await kafka.ensureTopics();
    expect(created).toEqual([`t-${env.id}-request-logs`, `t-${env.id}-request-logs.dlq`]);
    expect(await kafka.ensureTopics()).toEqual([]); // idempotent

    const topic = kafka.topic('request-logs');
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `account-${i % 5}`, value: JSON.stringify({ i }) }));
    await producer.send({ topic, acks: -1, messages: sent });

    const consumer = kafka.consumer({ groupId: 'roundtrip' });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; i: number; partition: number }[] = [];
    await consumer.run({
      eachMessage: ({ message, partition }) => {
        received.push({ key: message.key!.toString(), i: JSON.parse(message.value!.toString()).i, partition });
        return Promise.resolve();
      },
    });
    await waitFor(() => received.length >= 50, { timeoutMs: 30_000, what: '50 messages' });
    expect(received.map((r) => r.i).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    // Same key, same partition: an account's events stay in order.
    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of received) partitionsByKey.set(r.key, (partitionsByKey.get(r.key) ?? new Set()).add(r.partition));
    for (const partitions of partitionsByKey.values()) expect(partitions.size).toBe(1);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it("gives request-logs room for a producer's whole batch in one partition, beyond the broker's 1 MiB", async () => {
    const topic = kafka.topic('request-logs');
    expect(await kafka.maxMessageBytes(topic)).toBe(REQUEST_LOG_MAX_MESSAGE_BYTES);
    expect(await kafka.maxMessageBytes(kafka.topic('request-logs.dlq'))).toBeGreaterThan(REQUEST_LOG_MAX_MESSAGE_BYTES);
    expect(await kafka.maxMessageBytes(kafka.topic('no-such-topic'))).toBeUndefined();
    const producer = kafka.producer();
    await producer.connect();
    // One key, so one partition's record batch of about 5 MB: the broker's default limit would refuse it.
    const value = 'x'.repeat(1_000_000);
    const sent = await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 5 }, () => ({ key: 'account-hot', value })),
    });
    expect(sent).toHaveLength(1);
    await producer.disconnect();
  });
});
