import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@usageguard/config';
import { ClickHouseModule, ClickHouseRepository } from '@usageguard/clickhouse';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { QueueModule, QueueRepository } from '@usageguard/queue';
import { RedisModule, RedisRepository } from '@usageguard/redis';
import { ObservabilityModule, probe, runMain, startHttpApp } from '@usageguard/observability';
import { AnalyzerModule } from './analyzer.module';

@Module({
  imports: [
    ConfigModule,
    ObservabilityModule.forRoot({
      app: 'analyzer',
      probes: {
        inject: [PrismaRepository, RedisRepository, ClickHouseRepository, QueueRepository],
        useFactory: (
          postgres: PrismaRepository,
          redis: RedisRepository,
          clickhouse: ClickHouseRepository,
          queue: QueueRepository,
        ) => [
          probe('postgres', postgres),
          probe('redis', redis),
          probe('clickhouse', clickhouse),
          probe('queue', queue),
        ],
      },
    }),
    DatabaseModule,
    RedisModule,
    ClickHouseModule,
    QueueModule.forRoot({ serve: ['analyzer'] }),
    AnalyzerModule,
  ],
})
class AnalyzerAppModule {}

runMain(() => startHttpApp(AnalyzerAppModule, { name: 'analyzer', port: (config) => config.http.ports.analyzer }));
