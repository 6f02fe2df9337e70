import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@usageguard/config';
import { ClickHouseModule, ClickHouseRepository } from '@usageguard/clickhouse';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { KafkaModule, KafkaRepository } from '@usageguard/kafka';
import { MailModule, MailRepository } from '@usageguard/mail';
import { QueueModule, QueueRepository } from '@usageguard/queue';
import { RedisModule, RedisRepository } from '@usageguard/redis';
import { ObservabilityModule, probe, runMain, startHttpApp } from '@usageguard/observability';
import { AnalyzerModule } from '../analyzer/src/analyzer.module';
import { DashboardModule } from '../dashboard/src/dashboard.module';
import { configureDashboardHttp } from '../dashboard/src/dashboard.http';
import { EnforcerModule } from '../enforcer/src/enforcer.module';
import { IngestModule } from '../ingest/src/ingest.module';
import { configureIngestBodyParsers } from '../ingest/src/ingest.http';

/**
 * The control plane: ingest + analyzer + enforcer + dashboard in one process. Needed while ClickHouse is embedded
 * through chDB, which binds one data directory per process; with CLICKHOUSE_URL set, each app can run on its own.
 * This composition root is the one place allowed to import the apps' feature modules and their HTTP set-up.
 */
@Module({
  imports: [
    ConfigModule,
    ObservabilityModule.forRoot({
      app: 'control-plane',
      probes: {
        inject: [
          PrismaRepository,
          KafkaRepository,
          ClickHouseRepository,
          RedisRepository,
          QueueRepository,
          MailRepository,
        ],
        useFactory: (
          postgres: PrismaRepository,
          kafka: KafkaRepository,
          clickhouse: ClickHouseRepository,
          redis: RedisRepository,
          queue: QueueRepository,
          smtp: MailRepository,
        ) => [
          probe('postgres', postgres),
          probe('kafka', kafka, 5000),
          probe('clickhouse', clickhouse),
          probe('redis', redis),
          probe('queue', queue),
          probe('smtp', smtp),
        ],
      },
    }),
    DatabaseModule,
    KafkaModule,
    ClickHouseModule,
    RedisModule,
    QueueModule.forRoot({ serve: ['analyzer', 'enforcer', 'mail'] }),
    MailModule,
    IngestModule,
    AnalyzerModule,
    EnforcerModule,
    DashboardModule,
  ],
})
class ControlPlaneModule {}

runMain(() =>
  startHttpApp(ControlPlaneModule, {
    name: 'control-plane',
    port: (config) => config.http.ports.dashboard,
    configure: (app, config) => {
      configureIngestBodyParsers(app);
      configureDashboardHttp(app, config);
    },
  }),
);
