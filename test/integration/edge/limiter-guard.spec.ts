import { Controller, Get, type INestApplication, Module, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONFIG, ConfigModule } from '@usageguard/config';
import { compilePolicy } from '@usageguard/domain';
import { ObservabilityModule } from '@usageguard/observability';
import { RedisModule, RedisRepository } from '@usageguard/redis';
import { createTestEnvironment, type TestEnvironment } from '@usageguard/testing';
import type { IncomingMessage } from 'node:http';
import { LimiterGuard, LimiterModule } from '../../../apps/edge/src/limiter';

const policy = compilePolicy({
  id: 'embedded',
  key: 'embedded',
  name: 'Embedded',
  apiAccess: true,
  errorStyle: 'NESTJS',
  limitStatusCode: 429,
  priorPerMinute: 1,
  version: 1,
  rules: [{ name: 'per-account', scope: 'ACCOUNT', windows: [{ limit: 3, seconds: 60 }], concurrency: 1 }],
});

@Controller('things')
@UseGuards(LimiterGuard)
class ThingsController {
  @Get()
  list(): { ok: true } {
    return { ok: true };
  }
}

/** A provider's own Nest API embedding the limiter as a guard (no gateway). */
@Module({
  imports: [
    ConfigModule,
    RedisModule,
    ObservabilityModule.forRoot({ app: 'embedded', probes: { inject: [], useFactory: () => [] } }),
    LimiterModule.forRoot({
      resolver: {
        useFactory: () => (req: IncomingMessage) => {
          const account = req.headers['x-account'];
          if (typeof account !== 'string') return null;
          return {
            policy,
            facts: {
              accountId: account,
              tokenId: null,
              clientIp: '127.0.0.1',
              method: req.method ?? 'GET',
              route: '/things',
            },
          };
        },
      },
    }),
  ],
  controllers: [ThingsController],
})
class EmbeddedApiModule {}

describe('LimiterGuard in a Nest app (real Redis)', () => {
  let env: TestEnvironment;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    env = await createTestEnvironment();
    const moduleRef = await Test.createTestingModule({ imports: [EmbeddedApiModule] })
      .overrideProvider(APP_CONFIG)
      .useValue(env.config)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(async () => {
    const redis = app?.get(RedisRepository);
    const keys = (await redis?.client.keys(`${redis.prefix}*`)) ?? [];
    if (keys.length > 0) await redis.client.del(...keys);
    await app?.close();
    await env?.cleanup();
  });

  it('limits with the same rules, headers and body as the gateway, and releases its lease per request', async () => {
    const headers = { 'x-account': `acct-${env.id}` };
    const statuses: number[] = [];
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${url}/things`, { headers });
      statuses.push(res.status);
      remaining.push(res.headers.get('x-ratelimit-remaining'));
      if (i === 3) {
        expect(await res.json()).toMatchObject({ message: 'ThrottlerException: Too Many Requests', statusCode: 429 });
        expect(res.headers.get('retry-after')).not.toBeNull();
      }
    }
    // Sequential requests under a concurrency limit of 1 all pass: each released its lease when it finished.
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(remaining).toEqual(['2', '1', '0', '0']);
  });

  it('lets through requests the resolver does not claim', async () => {
    const res = await fetch(`${url}/things`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBeNull();
  });
});
