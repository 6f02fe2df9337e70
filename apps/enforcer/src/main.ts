import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@usageguard/config';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { MailModule, MailRepository } from '@usageguard/mail';
import { QueueModule, QueueRepository } from '@usageguard/queue';
import { RedisModule, RedisRepository } from '@usageguard/redis';
import { ObservabilityModule, probe, runMain, startHttpApp } from '@usageguard/observability';
import { EnforcerModule } from './enforcer.module';

@Module({
  imports: [
    ConfigModule,
    ObservabilityModule.forRoot({
      app: 'enforcer',
      probes: {
        inject: [PrismaRepository, RedisRepository, QueueRepository, MailRepository],
        useFactory: (
          postgres: PrismaRepository,
          redis: RedisRepository,
          queue: QueueRepository,
          smtp: MailRepository,
        ) => [probe('postgres', postgres), probe('redis', redis), probe('queue', queue), probe('smtp', smtp)],
      },
    }),
    DatabaseModule,
    RedisModule,
    // Jobs of different accounts run in parallel; one account's changes serialize on its row lock.
    QueueModule.forRoot({ serve: ['enforcer', 'mail'], concurrency: { enforcer: 8, mail: 4 } }),
    MailModule,
    EnforcerModule,
  ],
})
class EnforcerAppModule {}

runMain(() => startHttpApp(EnforcerAppModule, { name: 'enforcer', port: (config) => config.http.ports.enforcer }));
