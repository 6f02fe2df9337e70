import { type INestApplication, Module } from '@nestjs/common';
import { ConfigModule } from '@usageguard/config';
import { DatabaseModule, PrismaRepository } from '@usageguard/database';
import { KafkaModule, KafkaRepository } from '@usageguard/kafka';
import { RedisModule, RedisRepository } from '@usageguard/redis';
import { ObservabilityModule, probe, startHttpApp } from '@usageguard/observability';
import { EdgeModule } from './edge.module';

/**
 * The edge's root module. Nest serves only /health and /metrics, on EDGE_ADMIN_PORT; the gateway (GatewayServer)
 * is a raw node:http server on EDGE_PORT started from this application context, so customer requests never go
 * through Express routing.
 */
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
export class EdgeAppModule {}

export function startEdge(): Promise<INestApplication> {
  return startHttpApp(EdgeAppModule, { name: 'edge-admin', port: (config) => config.edge.adminPort });
}
