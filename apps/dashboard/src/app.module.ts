import { Module } from '@nestjs/common';
import { ConfigModule } from '@usageguard/config';
import { ClickHouseModule, ClickHouseRepository } from '@usageguard/clickhouse';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { QueueModule, QueueRepository } from '@usageguard/queue';
import { RedisModule, RedisRepository } from '@usageguard/redis';
import { ObservabilityModule, probe } from '@usageguard/observability';
import { DashboardModule } from './dashboard.module';

/** The dashboard as its own process (with CLICKHOUSE_URL set; with chDB it runs inside the control plane). */
@Module({
  imports: [
    ConfigModule,
    ObservabilityModule.forRoot({
      app: 'dashboard',
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
    QueueModule.forRoot({ serve: [] }),
    DashboardModule,
  ],
})
export class DashboardAppModule {}
