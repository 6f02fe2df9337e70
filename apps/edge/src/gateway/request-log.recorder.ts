import { EDGE_DECISIONS, eventTime, HTTP_METHODS, type RequestLogEvent } from '@usageguard/contracts';
import { operationOf, type RequestFacts } from '@usageguard/domain';
import type { RequestLogProducer } from '@usageguard/kafka';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestOutcome {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  startedAt: number;
  /** performance.now() at arrival. */
  started: number;
  facts: RequestFacts;
  decision: (typeof EDGE_DECISIONS)[number];
  rule?: string;
}

const METHODS = new Set<string>(HTTP_METHODS);

/**
 * Turns a finished request into a request log event and hands it to the producer, whose enqueue() never blocks or
 * throws: logging can neither slow nor fail a request. Requests without an account (401) are not logged: the event
 * is per customer. Byte counts come from the declared lengths (a chunked body without one counts 0).
 */
export class RequestLogRecorder {
  constructor(private readonly producer: Pick<RequestLogProducer, 'enqueue'>) {}

  record(outcome: RequestOutcome): void {
    const { req, res, facts } = outcome;
    if (!METHODS.has(facts.method)) return;
    const event: RequestLogEvent = {
      v: 1,
      eventId: randomUUID(),
      ts: eventTime(outcome.startedAt),
      accountId: facts.accountId,
      tokenId: facts.tokenId,
      clientIp: facts.clientIp,
      method: facts.method as RequestLogEvent['method'],
      route: facts.route.slice(0, 256),
      status: res.writableFinished ? res.statusCode : 499,
      latencyMs: Math.round((performance.now() - outcome.started) * 1000) / 1000,
      bytesIn: Number(req.headers['content-length'] ?? 0) || 0,
      bytesOut: Number(res.getHeader('content-length') ?? 0) || 0,
      operation: operationOf(facts.method, facts.route),
      decision: outcome.decision,
      requestId: outcome.requestId,
    };
    if (outcome.rule) event.rule = outcome.rule.slice(0, 128);
    this.producer.enqueue(event);
  }
}
