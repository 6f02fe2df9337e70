import { Module } from '@nestjs/common';
import { RequestLogProducerModule } from '@usageguard/kafka';
import { IngestKeyGuard } from './auth/ingest-key.guard';
import { RequestLogConsumer } from './consumers/request-log.consumer';
import { IngestController } from './controllers/ingest.controller';
import { INGEST_OPTIONS } from './ingest.options';
import { IngestMetrics } from './services/ingest-metrics.service';
import { LogIntakeService } from './services/log-intake.service';
import { ReconciliationService } from './services/reconciliation.service';
import { RequestLogStore } from './services/request-log-store.service';

/**
 * The ingest feature: the consumer group (request-logs → ClickHouse), POST /v1/ingest/logs and reconciliation.
 * Infrastructure (Config, Kafka, ClickHouse, Database, Observability) comes from the root module; call
 * configureIngestBodyParsers(app) before listen.
 */
@Module({
  imports: [RequestLogProducerModule],
  controllers: [IngestController],
  providers: [
    // Defaults apply; tests and benchmarks override this provider.
    { provide: INGEST_OPTIONS, useValue: {} },
    IngestMetrics,
    RequestLogStore,
    RequestLogConsumer,
    LogIntakeService,
    ReconciliationService,
    IngestKeyGuard,
  ],
})
export class IngestModule {}
