import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { INGEST_HTTP_LIMITS } from './ingest.options';

/**
 * Body parsers for POST /v1/ingest/logs: JSON arrays and NDJSON text up to the documented maximum (the default JSON
 * limit is 100 kB). Call before listen, in every app that composes IngestModule; larger bodies get 413.
 */
export function configureIngestBodyParsers(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.useBodyParser('json', { limit: INGEST_HTTP_LIMITS.maxBodyBytes });
  express.useBodyParser('text', {
    limit: INGEST_HTTP_LIMITS.maxBodyBytes,
    type: ['application/x-ndjson', 'application/ndjson', 'text/plain'],
  });
}
