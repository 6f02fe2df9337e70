import { Global, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONFIG, loadConfig } from '@usageguard/config';
import { JobHandler, QueueModule, QueueRepository } from '@usageguard/queue';
import {
  createTestEnvironment,
  startTcpProxy,
  type TcpProxy,
  type TestEnvironment,
  sleep,
  waitFor,
} from '@usageguard/testing';
import { Redis } from 'ioredis';

const seen: { name: string; payload: unknown }[] = [];

@Injectable()
class AnalyzerHandlers {
  @JobHandler('analyzer', 'analyze-cycle')
  cycle(payload: unknown): Promise<string> {
    seen.push({ name: 'analyze-cycle', payload });
    return Promise.resolve('cycled');
  }

  @JobHandler('analyzer', 'analyze-shard')
  shard(payload: unknown): Promise<void> {
    seen.push({ name: 'analyze-shard', payload });
    return Promise.resolve();
  }
}

@Injectable()
class OnlyCycle {
  @JobHandler('analyzer', 'analyze-cycle')
  cycle(): Promise<void> {
    return Promise.resolve();
  }
}

async function boot(env: Record<string, string>, providers: unknown[]) {
  @Global()
  @Module({ providers: [{ provide: APP_CONFIG, useValue: loadConfig(env) }], exports: [APP_CONFIG] })
  class TestConfigModule {}
  @Module({
    imports: [TestConfigModule, QueueModule.forRoot({ serve: ['analyzer'] })],
    providers: providers as never[],
  })
  class Root {}
  return NestFactory.createApplicationContext(Root, { logger: false, abortOnError: false });
}

describe('queue repository (real Redis, BullMQ)', () => {
  let env: TestEnvironment;
  let proxy: TcpProxy;
  let proxiedEnv: Record<string, string>;

  beforeAll(async () => {
    env = await createTestEnvironment();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    proxiedEnv = { ...env.env, REDIS_URL: `redis://127.0.0.1:${proxy.port}/0` };
  });

  afterAll(async () => {
    const redis = new Redis(env.config.redis.url);
    const keys = await redis.keys(`${env.config.redis.prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await proxy.close();
    await env.cleanup();
  });

  it('refuses to start when a served job has no handler', async () => {
    await expect(boot(env.env, [OnlyCycle])).rejects.toThrow(/no handler for analyze-shard/);
  });

  it('runs a job once per deterministic id and returns its result to a waiting caller', async () => {
    const app = await boot(env.env, [AnalyzerHandlers]);
    const queue = app.get(QueueRepository);
    const payload = { shard: 1, shards: 4, windowEnd: '2026-11-24T00:00:00.000Z' };
    await queue.enqueue('analyzer', 'analyze-shard', payload, { jobId: 'shard-1' });
    await queue.enqueue('analyzer', 'analyze-shard', payload, { jobId: 'shard-1' });
    const result = await queue.enqueueAndWait('analyzer', 'analyze-cycle', {}, { jobId: 'cycle-once' });
    expect(result).toBe('cycled');
    await waitFor(() => seen.some((s) => s.name === 'analyze-shard'), { what: 'the shard job' });
    await sleep(300);
    expect(seen.filter((s) => s.name === 'analyze-shard')).toHaveLength(1);
    await app.close();
  });

  it('registers its schedulers again when Redis comes back without them', async () => {
    seen.length = 0;
    const app = await boot(proxiedEnv, [AnalyzerHandlers]);
    const queue = app.get(QueueRepository);
    await queue.schedule('analyzer', 'analyze-cycle', {}, 300);
    await waitFor(() => seen.length >= 2, { what: 'scheduled cycles' });

    // Redis restarts empty: its data is gone (only this test's keys are deleted) and connections drop.
    const redis = new Redis(env.config.redis.url);
    proxy.cut();
    const keys = await redis.keys(`${env.config.redis.prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await sleep(500);
    seen.length = 0;
    proxy.restore();

    await waitFor(() => seen.length >= 2, { timeoutMs: 15_000, what: 'cycles after Redis came back' });
    await app.close();
  });
});
