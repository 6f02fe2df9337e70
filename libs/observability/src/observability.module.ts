import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HealthController } from './health.controller';
import { HEALTH_PROBES, type HealthProbe } from './health-probe';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

export interface ObservabilityOptions {
  /** The app's name in every log line. */
  app: string;
  /** Builds the /health probes from the app's repositories; each `inject` token is resolved by Nest. */
  probes: { inject: unknown[]; useFactory: (...deps: never[]) => HealthProbe[] };
}

/** Structured logs with request ids (pino), Prometheus /metrics, and /health over the app's dependencies. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    const probes: Provider = {
      provide: HEALTH_PROBES,
      inject: options.probes.inject as never[],
      useFactory: options.probes.useFactory,
    };
    return {
      module: ObservabilityModule,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        LoggerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            pinoHttp: {
              name: options.app,
              level: config.log.level,
              transport: config.log.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
              genReqId: (req: IncomingMessage, res: ServerResponse) => {
                const given = req.headers['x-request-id'];
                const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
                res.setHeader('x-request-id', id);
                return id;
              },
              redact: [
                'req.headers.authorization',
                'req.headers.cookie',
                'req.headers["x-api-key"]',
                'res.headers["set-cookie"]',
              ],
              autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' || req.url === '/metrics' },
            },
          }),
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [MetricsService, probes],
      exports: [MetricsService],
    };
  }
}
