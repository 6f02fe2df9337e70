import { Inject, Injectable } from '@nestjs/common';
import { MetricsService } from '@usageguard/observability';

/** The ingest pipeline's Prometheus metrics (GET /metrics). */
@Injectable()
export class IngestMetrics {
  /** Messages per outcome: stored, duplicate (redelivered or re-sent), dead-lettered. */
  readonly messages;
  readonly rowsInserted;
  readonly batchSize;
  readonly flushSeconds;
  readonly lag;
  readonly deadLetters;
  readonly clickhouseAvailable;
  readonly httpEvents;
  readonly idLookups;
  readonly recentIds;

  constructor(@Inject(MetricsService) metrics: MetricsService) {
    this.messages = metrics.counter('usageguard_ingest_messages_total', 'Kafka messages consumed, by outcome', [
      'outcome',
    ]);
    this.rowsInserted = metrics.counter(
      'usageguard_ingest_rows_inserted_total',
      'Rows inserted into request_logs (rate() gives rows/s)',
    );
    this.batchSize = metrics.histogram(
      'usageguard_ingest_batch_size',
      'Messages per flush (one ClickHouse insert)',
      [],
      [1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000],
    );
    this.flushSeconds = metrics.histogram(
      'usageguard_ingest_flush_seconds',
      'Duration of a successful flush',
      [],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    this.lag = metrics.gauge('usageguard_ingest_lag_messages', 'Messages behind the partition high watermark', [
      'partition',
    ]);
    this.deadLetters = metrics.counter(
      'usageguard_ingest_dead_letters_total',
      'Messages sent to the dead-letter topic',
    );
    this.clickhouseAvailable = metrics.gauge(
      'usageguard_ingest_clickhouse_available',
      '1 while flushes succeed, 0 while the consumer is paused waiting for ClickHouse',
    );
    this.httpEvents = metrics.counter('usageguard_ingest_http_events_total', 'Events through POST /v1/ingest/logs', [
      'outcome',
    ]);
    this.idLookups = metrics.counter(
      'usageguard_ingest_event_id_checks_total',
      'Events checked for an earlier copy, by where: memory (the recent-events index) or clickhouse (older events)',
      ['where'],
    );
    this.recentIds = metrics.gauge(
      'usageguard_ingest_recent_event_ids',
      'Stored event ids the consumer remembers (the recent-events index)',
    );
  }
}
