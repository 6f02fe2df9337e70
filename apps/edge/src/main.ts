import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@usageguard/config';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { KafkaModule, KafkaRepository } from '@usageguard/kafka';
import { RedisModule, RedisRepository } from '@usageguard/redis';
import { ObservabilityModule, probe, runMain, startHttpApp } from '@usageguard/observability';
import { EdgeModule } from './edge.module';

@Module({
  imports: [
    ConfigModule,
    ObservabilityModule.forRoot({
      app: 'edge',
      probes: {
        inject: [PrismaRepository, RedisRepository, KafkaRepository],
        useFactory: (postgres: PrismaRepository, redis: RedisRepository, kafka: KafkaRepository) => [
          probe('postgres', postgres),
          probe('redis', redis),
          probe('kafka', kafka, 5000),
        ],
      },
    }),
    DatabaseModule,
    RedisModule,
    KafkaModule,
    EdgeModule,
  ],
})
class EdgeAppModule {}

runMain(() => startHttpApp(EdgeAppModule, { name: 'edge', port: (config) => config.http.edge.port }));
