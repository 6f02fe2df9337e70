import { Inject, Injectable, Optional } from '@nestjs/common';
import { parseRequestLogEvent, type RequestLogEvent } from '@usageguard/contracts';
import { RequestLogProducer } from '@usageguard/kafka';
import { DomainError, UnavailableError } from '@usageguard/observability';
import { DEFAULT_INGEST_OPTIONS, INGEST_HTTP_LIMITS, INGEST_OPTIONS, type IngestOptions } from '../ingest.options';
import { IngestMetrics } from './ingest-metrics.service';

export interface InvalidEvent {
  /** 0-based position of the event in the array, or of the line in the NDJSON body. */
  index: number;
  reason: string;
}

/**
 * Splits an ingest body into items: a JSON array (already parsed by the JSON body parser) or NDJSON text, one event
 * per line (blank lines are ignored but keep the line numbering, so `index` is the 0-based line number).
 */
export function splitBody(body: unknown): { index: number; value: unknown; error?: string }[] {
  if (Array.isArray(body)) return (body as unknown[]).map((value, index) => ({ index, value }));
  if (typeof body === 'string') {
    const items: { index: number; value: unknown; error?: string }[] = [];
    const lines = body.split('\n');
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index].trim();
      if (line.length === 0) continue;
      try {
        items.push({ index, value: JSON.parse(line) });
      } catch (error) {
        items.push({ index, value: undefined, error: `invalid JSON: ${(error as Error).message}` });
      }
    }
    return items;
  }
  throw new DomainError(
    'invalid_body',
    'the body must be a JSON array of events (application/json) or one event per line (application/x-ndjson)',
    400,
  );
}

/** POST /v1/ingest/logs: validate all, publish all, and answer only once Kafka has acknowledged them. */
@Injectable()
export class LogIntakeService {
  private readonly options: IngestOptions;

  constructor(
    @Inject(RequestLogProducer) private readonly producer: RequestLogProducer,
    @Inject(IngestMetrics) private readonly metrics: IngestMetrics,
    @Optional() @Inject(INGEST_OPTIONS) options?: Partial<IngestOptions>,
  ) {
    this.options = { ...DEFAULT_INGEST_OPTIONS, ...options };
  }

  /** All or nothing: one invalid event rejects the call (400 listing every invalid one), so a retry is simple. */
  validate(body: unknown): RequestLogEvent[] {
    const items = splitBody(body);
    if (items.length === 0) throw new DomainError('empty_body', 'no events in the body', 400);
    if (items.length > INGEST_HTTP_LIMITS.maxEvents) {
      throw new DomainError(
        'too_many_events',
        `at most ${INGEST_HTTP_LIMITS.maxEvents} events per call; got ${items.length}`,
        413,
      );
    }
    const events: RequestLogEvent[] = [];
    const invalid: InvalidEvent[] = [];
    for (const item of items) {
      if (item.error !== undefined) {
        invalid.push({ index: item.index, reason: item.error });
        continue;
      }
      const parsed = parseRequestLogEvent(item.value);
      if (parsed.ok) events.push(parsed.event);
      else invalid.push({ index: item.index, reason: parsed.reason });
    }
    if (invalid.length > 0) {
      this.metrics.httpEvents.inc({ outcome: 'invalid' }, invalid.length);
      throw new DomainError(
        'invalid_events',
        `${invalid.length} of ${items.length} events are invalid; nothing was accepted`,
        400,
        { invalid },
      );
    }
    return events;
  }

  async publish(events: RequestLogEvent[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no acknowledgement in time')), this.options.publishTimeoutMs);
    });
    try {
      await Promise.race([this.producer.send(events), timeout]);
      this.metrics.httpEvents.inc({ outcome: 'accepted' }, events.length);
    } catch (error) {
      this.metrics.httpEvents.inc({ outcome: 'unavailable' }, events.length);
      // A send that times out may still land later; the caller's retry is then deduplicated by event id.
      throw new UnavailableError('kafka_unavailable', `events not accepted, retry later: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
