import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { encodeRequestLogEvent, type RequestLogEvent, TOPICS } from '@usageguard/contracts';
import type { Message, Producer } from 'kafkajs';
import { KafkaRepository } from './kafka.repository';

/** The broker's default record-batch limit (message.max.bytes), assumed when a topic's own cannot be read. */
const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

export interface RequestLogProducerOptions {
  /**
   * Most events held in memory (queued + in flight). At ~0.5 KB an event the default bounds the buffer near 50 MB.
   * Overflow policy: when full, the NEW event is shed (dropped and counted in stats().shed); what is already queued
   * keeps its order and is delivered first.
   */
  maxQueued: number;
  /** Most events in one produce request. */
  batchSize: number;
  /**
   * Most bytes in one produce request. The broker refuses a partition's record batch above the topic's
   * max.message.bytes, and kafkajs puts all of a request's messages for one partition in one batch: with one hot
   * account (one key, one partition) a request by count alone could exceed it and be refused forever. So the
   * producer also keeps under 85 % of the limit it reads from the topic when it connects (REQUEST_LOG_MAX_MESSAGE_BYTES
   * for topics created by ensureTopics; 1 MiB, the broker's default, for older ones or if it cannot be read).
   */
  maxRequestBytes: number;
  /** How long a partial batch waits for company before it is sent. */
  lingerMs: number;
  /** Back-off bounds after a failed send; the batch is retried until it is delivered or the producer shuts down. */
  retryMinMs: number;
  retryMaxMs: number;
  /** How long shutdown waits for the queue to drain before it gives up (what remains is counted as failed). */
  shutdownTimeoutMs: number;
}

export const DEFAULT_REQUEST_LOG_PRODUCER_OPTIONS: RequestLogProducerOptions = {
  maxQueued: 100_000,
  batchSize: 10_000,
  maxRequestBytes: 7_000_000,
  lingerMs: 20,
  retryMinMs: 100,
  retryMaxMs: 5_000,
  shutdownTimeoutMs: 10_000,
};

/** Optional override of DEFAULT_REQUEST_LOG_PRODUCER_OPTIONS (partial). */
export const REQUEST_LOG_PRODUCER_OPTIONS = Symbol('REQUEST_LOG_PRODUCER_OPTIONS');

export interface RequestLogProducerStats {
  /** Waiting in memory, not yet handed to Kafka. */
  queued: number;
  /** Handed to Kafka, waiting for the acknowledgement. */
  inFlight: number;
  /** Acknowledged by all in-sync replicas. */
  sent: number;
  /** Dropped on arrival because the buffer was full (overflow policy: shed newest). */
  shed: number;
  /** Given up on: still undelivered when the producer shut down, or not serialisable. */
  failed: number;
  /** Failed produce attempts (batches); each was retried. A non-zero, growing value means Kafka is unreachable. */
  sendErrors: number;
}

/** One event as its own message: key = account id (one partition per account), the event's JSON as the value. */
export function toRequestLogMessage(event: RequestLogEvent): Message {
  return { key: event.accountId, value: encodeRequestLogEvent(event), headers: { 'event-version': String(event.v) } };
}

/**
 * A produce request being filled: one message per account, its events as NDJSON lines in order (requestLogLines()
 * reads them back), key = the account. The per-record cost of the Kafka client (encoding, partitioning, checksums) is
 * paid once per account and batch instead of once per event, which is most of what producing costs. Events are
 * serialised straight into their account's lines: nothing is kept per event but its text.
 */
class AccountBatch {
  private readonly lines = new Map<string, string[]>();
  /** Bytes the request will hold (each event's text plus a record's overhead). */
  bytes = 0;
  events = 0;

  /**
   * Adds the event unless its bytes would take a non-empty request past `maxBytes`; false if it was left out. Throws
   * only for an event JSON cannot spell (a cycle, a BigInt).
   */
  add(event: RequestLogEvent, maxBytes: number): boolean {
    const json = encodeRequestLogEvent(event);
    const size = Buffer.byteLength(json) + event.accountId.length + 64;
    if (this.events > 0 && this.bytes + size > maxBytes) return false;
    const group = this.lines.get(event.accountId);
    if (group) group.push(json);
    else this.lines.set(event.accountId, [json]);
    this.bytes += size;
    this.events++;
    return true;
  }

  /**
   * The request's messages. The per-event texts are let go (the messages hold the batch's text now): whatever is still
   * referenced while the request waits for Kafka's acknowledgement outlives young-generation collections, each of
   * which copies it.
   */
  messages(): Message[] {
    const messages: Message[] = [];
    for (const [accountId, group] of this.lines) {
      messages.push({ key: accountId, value: group.join('\n'), headers: { 'event-version': '1' } });
    }
    this.lines.clear();
    return messages;
  }
}

/**
 * The edge's way to publish request log events. enqueue() is synchronous and O(1): it never waits for Kafka and
 * never throws, so the request path is never slowed or failed by logging. A background loop sends batches (one
 * message per account, its events as NDJSON lines: AccountBatch) with
 * an idempotent producer and acks from all in-sync replicas; a batch that fails is retried with back-off while new
 * events queue up to the bound, beyond which they are shed and counted. Redelivery after a retry can duplicate an
 * event in Kafka; the ingest consumer deduplicates by event id.
 *
 * send() is the acknowledged path for callers that must know (HTTP ingest, replay): it resolves only once Kafka
 * acknowledged every event, and rejects when Kafka is unavailable.
 */
@Injectable()
export class RequestLogProducer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RequestLogProducer.name);
  private readonly options: RequestLogProducerOptions;
  private readonly topic: string;
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  /** maxRequestBytes within the topic's record-batch limit, once connected. */
  private requestBytes: number;

  // A ring-less FIFO: an array plus a head index, compacted when the consumed prefix grows large (O(1) amortised).
  private queue: RequestLogEvent[] = [];
  private head = 0;
  private inFlight = 0;
  private sent = 0;
  private shed = 0;
  private failed = 0;
  private sendErrors = 0;

  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    @Inject(KafkaRepository) private readonly kafka: KafkaRepository,
    @Optional() @Inject(REQUEST_LOG_PRODUCER_OPTIONS) options?: Partial<RequestLogProducerOptions>,
  ) {
    this.options = { ...DEFAULT_REQUEST_LOG_PRODUCER_OPTIONS, ...options };
    this.requestBytes = this.capped(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    this.topic = kafka.topic(TOPICS.requestLogs);
    // Bounded retries (kafkajs' idempotent default is unbounded): a send must fail visibly while Kafka is down so the
    // HTTP path can answer 503 and the edge loop can back off. Still idempotent with acks=-1; a batch re-sent after
    // a failure may land twice, which the consumer's event-id dedup absorbs.
    this.producer = kafka.producer(
      { retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 } },
      { selfManaged: true },
    );
  }

  /** Queues one event for delivery; never throws, never waits. */
  enqueue(event: RequestLogEvent): void {
    try {
      if (this.stopped || this.size() >= this.options.maxQueued) {
        this.shed++;
        return;
      }
      this.queue.push(event);
      if (this.queue.length - this.head >= this.options.batchSize) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.options.lingerMs);
    } catch {
      this.shed++;
    }
  }

  /** Resolves when everything enqueued so far has been acknowledged (or given up on at shutdown). */
  flush(): Promise<void> {
    if (this.size() === 0) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.kick();
    return idle;
  }

  stats(): RequestLogProducerStats {
    return {
      queued: this.queue.length - this.head,
      inFlight: this.inFlight,
      sent: this.sent,
      shed: this.shed,
      failed: this.failed,
      sendErrors: this.sendErrors,
    };
  }

  /** Publishes events and resolves once Kafka acknowledged all of them (acks=-1); rejects if Kafka is unavailable. */
  async send(events: readonly RequestLogEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.connect();
    let batch = new AccountBatch();
    for (const event of events) {
      if (!batch.add(event, this.requestBytes)) {
        await this.producer.send({ topic: this.topic, acks: -1, messages: batch.messages() });
        batch = new AccountBatch();
        batch.add(event, this.requestBytes);
      }
    }
    await this.producer.send({ topic: this.topic, acks: -1, messages: batch.messages() });
  }

  onApplicationBootstrap(): void {
    // Connect early so the first request does not pay for it, but never fail boot: the loop retries.
    this.connect().catch((error: unknown) => this.logger.warn(`Kafka not reachable yet: ${String(error)}`));
  }

  async onModuleDestroy(): Promise<void> {
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, this.options.shutdownTimeoutMs).unref());
    await Promise.race([this.flush(), deadline]);
    this.stopped = true;
    const left = this.size();
    if (left > 0) {
      this.failed += this.queue.length - this.head;
      this.logger.error(`shutting down with ${left} undelivered request log events`);
      this.queue = [];
      this.head = 0;
    }
    clearTimeout(this.timer);
    this.wakeIdle();
    await this.producer.disconnect();
  }

  private size(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  private connect(): Promise<void> {
    this.connected ??= Promise.all([this.producer.connect(), this.kafka.maxMessageBytes(this.topic)]).then(
      ([, limit]) => {
        if (limit === undefined) {
          this.logger.warn(
            `could not read max.message.bytes of ${this.topic}: produce requests stay under the broker's default (1 MiB)`,
          );
        }
        this.requestBytes = this.capped(limit ?? BROKER_DEFAULT_MAX_MESSAGE_BYTES);
      },
      (error: unknown) => {
        this.connected = undefined;
        throw error;
      },
    );
    return this.connected;
  }

  /** Request bytes within a record-batch limit: the estimate counts a record's overhead per event, this the rest. */
  private capped(maxMessageBytes: number): number {
    return Math.min(this.options.maxRequestBytes, Math.floor(maxMessageBytes * 0.85));
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length - this.head > 0 && !this.stopped) this.kick();
      else this.wakeIdle();
    });
  }

  /** One batch at a time: kafkajs' idempotent producer keeps per-partition sequence numbers right only so. */
  private async drain(): Promise<void> {
    let backoff = this.options.retryMinMs;
    while (!this.stopped && this.queue.length - this.head > 0) {
      const batch: RequestLogEvent[] = [];
      const request = new AccountBatch();
      while (this.head < this.queue.length && batch.length < this.options.batchSize) {
        const event = this.queue[this.head];
        try {
          if (!request.add(event, this.requestBytes)) break;
        } catch (error) {
          // Only a non-serialisable object (a cycle, a BigInt) gets here: type-checked callers cannot produce one.
          this.failed++;
          this.head++;
          this.logger.error(`dropped an unserialisable event: ${String(error)}`);
          continue;
        }
        batch.push(event);
        this.head++;
      }
      this.compact();
      this.inFlight = batch.length;
      if (batch.length === 0) continue;
      const messages = request.messages();
      try {
        await this.connect();
        await this.producer.send({ topic: this.topic, acks: -1, messages });
        this.sent += batch.length;
        this.inFlight = 0;
        backoff = this.options.retryMinMs;
      } catch (error) {
        this.sendErrors++;
        this.inFlight = 0;
        if (this.stopped) {
          this.failed += batch.length;
          return;
        }
        // Put the batch back in front so delivery order is kept, then wait before trying again.
        this.queue = batch.concat(this.queue.slice(this.head));
        this.head = 0;
        // Log the first failure of a streak only: an outage would otherwise log on every retry.
        if (backoff === this.options.retryMinMs) {
          this.logger.warn(`request log events not delivered, retrying until Kafka is back: ${String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, this.options.retryMaxMs);
      }
    }
  }

  private compact(): void {
    if (this.head > 50_000 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private wakeIdle(): void {
    if (this.size() > 0 && !this.stopped) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

/** Provides RequestLogProducer; needs KafkaModule (global) in the root module. */
@Module({ providers: [RequestLogProducer], exports: [RequestLogProducer] })
export class RequestLogProducerModule {}
