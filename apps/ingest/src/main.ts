import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@usageguard/config';
import { ClickHouseModule, ClickHouseRepository } from '@usageguard/clickhouse';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { KafkaModule, KafkaRepository } from '@usageguard/kafka';
import { ObservabilityModule, probe, runMain, startHttpApp } from '@usageguard/observability';
import { configureIngestBodyParsers } from './ingest.http';
import { IngestModule } from './ingest.module';

@Module({
  imports: [
    ConfigModule,
    ObservabilityModule.forRoot({
      app: 'ingest',
      probes: {
        inject: [PrismaRepository, KafkaRepository, ClickHouseRepository],
        useFactory: (postgres: PrismaRepository, kafka: KafkaRepository, clickhouse: ClickHouseRepository) => [
          probe('postgres', postgres),
          probe('kafka', kafka, 5000),
          probe('clickhouse', clickhouse),
        ],
      },
    }),
    DatabaseModule,
    KafkaModule,
    ClickHouseModule,
    IngestModule,
  ],
})
class IngestAppModule {}

runMain(() =>
  startHttpApp(IngestAppModule, {
    name: 'ingest',
    port: (config) => config.http.ports.ingest,
    configure: (app) => configureIngestBodyParsers(app),
  }),
);
