import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { APP_CONFIG, ConfigModule, loadConfig } from '@usageguard/config';
import { ClickHouseModule, ClickHouseRepository } from '@usageguard/clickhouse';
import { QUEUES } from '@usageguard/contracts';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { configureHttpApp, ObservabilityModule } from '@usageguard/observability';
import { QueueModule, QueueRepository } from '@usageguard/queue';
import { createTestEnvironment, type TestEnvironment } from '@usageguard/testing';
import { AnalyzerModule } from '../../apps/analyzer/src/analyzer.module';
import { AnalyzerService } from '../../apps/analyzer/src/services/analyzer.service';

export interface AnalyzerApp {
  env: TestEnvironment;
  app: INestApplication;
  url: string;
  prisma: PrismaRepository;
  clickhouse: ClickHouseRepository;
  queue: QueueRepository;
  analyzer: AnalyzerService;
  close(): Promise<void>;
}

/**
 * The analyzer feature as apps/analyzer/src/main.ts composes it, on an isolated environment of its own (Postgres
 * database, chDB directory, Redis prefix), listening on port 0, without the repeatable schedule: the caller drives
 * cycles. Used by the integration tests and the detection and analyzer benches.
 */
export async function startAnalyzerApp(
  options: { serve?: boolean; env?: Record<string, string> } = {},
): Promise<AnalyzerApp> {
  const env = await createTestEnvironment({ database: true });
  const config = loadConfig({ ...env.env, ANALYZER_SCHEDULE: 'false', ...options.env });
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule,
      ObservabilityModule.forRoot({ app: 'analyzer-test', probes: { inject: [], useFactory: () => [] } }),
      DatabaseModule,
      ClickHouseModule,
      QueueModule.forRoot({ serve: options.serve ? [QUEUES.analyzer] : [] }),
      AnalyzerModule,
    ],
  })
    .overrideProvider(APP_CONFIG)
    .useValue(config)
    .compile();
  const app = moduleRef.createNestApplication({ bufferLogs: false, logger: ['error', 'warn'] });
  configureHttpApp(app);
  await app.listen(0, '127.0.0.1');
  const queue = app.get(QueueRepository);
  return {
    env,
    app,
    url: await app.getUrl(),
    prisma: app.get(PrismaRepository),
    clickhouse: app.get(ClickHouseRepository),
    queue,
    analyzer: app.get(AnalyzerService),
    close: async () => {
      // Jobs this run enqueued live under its own Redis prefix; remove them so the shared Redis stays clean.
      for (const name of [QUEUES.analyzer, QUEUES.enforcer]) {
        await queue.queue(name).obliterate({ force: true });
      }
      await app.close();
      await env.cleanup();
    },
  };
}
