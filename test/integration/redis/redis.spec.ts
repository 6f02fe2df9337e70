import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRepository } from '@usageguard/redis';
import { createTestEnvironment, type TestEnvironment, waitFor } from '@usageguard/testing';

describe('Redis (real server)', () => {
  let env: TestEnvironment;
  let redis: RedisRepository;

  beforeAll(async () => {
    env = await createTestEnvironment();
    redis = new RedisRepository(env.config);
  });

  afterAll(async () => {
    const keys = await redis.client.keys(`${redis.prefix}*`);
    if (keys.length > 0) await redis.client.del(...keys);
    await redis?.onModuleDestroy();
    await env?.cleanup();
  });

  it('writes keys under its prefix with a TTL', async () => {
    await redis.ping();
    const key = redis.key('probe', 'a');
    expect(key.startsWith(`t:${env.id}:`)).toBe(true);
    await redis.client.set(key, 'v', 'PX', 5_000);
    expect(await redis.client.get(key)).toBe('v');
    const ttl = await redis.client.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('delivers pub/sub announcements on a dedicated subscriber connection', async () => {
    const subscriber = redis.connect();
    const channel = redis.key('channel');
    const received: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => received.push(message));
    await subscriber.subscribe(channel);
    await redis.client.publish(channel, 'hello');
    await waitFor(() => received.length === 1, { what: 'one message' });
    expect(received).toEqual(['hello']);
  });
});
