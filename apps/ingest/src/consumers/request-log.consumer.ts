import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { CONSUMER_GROUPS, type RequestLogEvent, TOPICS } from '@usageguard/contracts';
import { type Consumer, type EachBatchPayload, KafkaRepository, type Producer } from '@usageguard/kafka';
import { DEFAULT_INGEST_OPTIONS, INGEST_OPTIONS, type IngestOptions } from '../ingest.options';
import { IngestMetrics } from '../services/ingest-metrics.service';
import { Known, type RecentEventIds } from '../services/recent-event-ids';
import { IntakeBody } from '../services/intake-body';
import { RequestLogStore } from '../services/request-log-store.service';
import { addToBody, type DeadLetter, type DecodedMessage, decodeMessage, eventOf } from './request-log-message';

/** One partition's batch from one fetch, decoded, waiting for the flush that stores it. */
interface PendingBatch {
  partition: number;
  messages: DecodedMessage[];
  heartbeat: () => Promise<void>;
  done: () => void;
  fail: (error: Error) => void;
}

/** Larger insert buffers (a flush far above the usual size) are not kept between flushes. */
const MAX_SPARE_BODY_BYTES = 256 * 1024 * 1024;

export interface FlushOutcome {
  stored: number;
  duplicates: number;
  deadLettered: number;
}

export class ShutdownError extends Error {
  constructor() {
    super('ingest consumer is shutting down');
  }
}

/**
 * The ingest consumer group: request-logs → ClickHouse request_logs (and, through the materialized view, the
 * per-minute rollups), exactly once per event.
 *
 * - Batching: the partitions' batches of a fetch join one flush, sent when batchMaxRows messages wait or
 *   flushIntervalMs after the first arrived; one flush is one INSERT.
 * - Offsets are resolved and committed only after the flush stored the rows (and dead letters were acknowledged).
 * - Exactly once, however a batch is re-formed after a crash: a message at or below its partition's stored watermark
 *   (ingest_offsets, written after the rows) is skipped; anything above it is checked by event id against
 *   request_logs (the window between the rows and the watermark, and the same event produced twice at different
 *   offsets) and within the flush. Nothing already stored is inserted again, so the rollups never double count.
 * - Malformed messages go to the dead-letter topic with the reason in headers and the original key and bytes.
 * - While ClickHouse (or the dead-letter topic) fails, the flush is retried with back-off, holding its batches:
 *   no new fetch happens (the consumer is paused), heartbeats keep the group membership, nothing is committed.
 */
@Injectable()
export class RequestLogConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RequestLogConsumer.name);
  private readonly options: IngestOptions;
  private readonly topic: string;
  private readonly deadLetterTopic: string;
  private readonly members: Consumer[] = [];
  private deadLetters: Producer | undefined;

  private pending: PendingBatch[] = [];
  private pendingMessages = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopping = false;
  /** Stored watermark per partition; reloaded after every (re)assignment and after a failed flush. */
  private watermarks: Map<number, number> | undefined;
  /** The stored events by time, as far back as its horizon; reloaded, like the watermarks, when it cannot be vouched for. */
  private recent: RecentEventIds | undefined;
  /** The last flush's insert buffer, kept for the next (see IntakeBody). */
  private spareBody: Buffer | undefined;
  private readonly joinedMembers = new Set<number>();
  private joined!: () => void;
  /** Resolves once every member joined the group and got partitions (benchmarks start their clock then). */
  readonly assigned = new Promise<void>((resolve) => (this.joined = resolve));

  constructor(
    @Inject(KafkaRepository) private readonly kafka: KafkaRepository,
    @Inject(RequestLogStore) private readonly store: RequestLogStore,
    @Inject(IngestMetrics) private readonly metrics: IngestMetrics,
    @Optional() @Inject(INGEST_OPTIONS) options?: Partial<IngestOptions>,
  ) {
    this.options = { ...DEFAULT_INGEST_OPTIONS, ...options };
    this.topic = kafka.topic(TOPICS.requestLogs);
    this.deadLetterTopic = kafka.topic(TOPICS.requestLogsDeadLetter);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.consume) await this.start();
  }

  async start(): Promise<void> {
    await this.kafka.ensureTopics();
    this.deadLetters = this.kafka.producer();
    await this.deadLetters.connect();
    this.metrics.clickhouseAvailable.set(1);
    // Several members of the group in this process, each with its share of the partitions: kafkajs fetches a member's
    // next batch only once its eachBatch returned (after the flush that stored it), so with one member the process
    // alternates between reading Kafka and waiting for ClickHouse. With two, one member's batch is fetched and parsed
    // while the other's is being inserted, and each eachBatch still returns only once its own rows are stored, so a
    // rebalance still waits for every flush in flight.
    for (let member = 0; member < this.options.members; member++) {
      const consumer = this.kafka.consumer({
        groupId: CONSUMER_GROUPS.ingest,
        maxBytesPerPartition: this.options.maxBytesPerPartition,
        maxBytes: this.options.maxBytesPerPartition * 8,
        maxWaitTimeInMs: 100,
        sessionTimeout: 30_000,
        heartbeatInterval: 3_000,
      });
      this.members.push(consumer);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        this.watermarks = undefined;
        this.recent = undefined;
        this.joinedMembers.add(member);
        if (this.joinedMembers.size === this.options.members) this.joined();
      });
      await consumer.connect();
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await consumer.run({
        eachBatchAutoResolve: false,
        autoCommitThreshold: 1,
        partitionsConsumedConcurrently: 64,
        eachBatch: (payload) => this.onBatch(payload),
      });
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    for (const batch of this.pending.splice(0)) batch.fail(new ShutdownError());
    this.pendingMessages = 0;
    // A flush in progress finishes or gives up at its next retry; its offsets are then committed or not at all.
    await this.flushing?.catch(() => undefined);
    await Promise.all(this.members.map((member) => member.disconnect()));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    // Parsed and validated on arrival, while the flush waits for the other partitions' batches, not after it.
    const messages = batch.messages.map((message) => decodeMessage(batch.partition, message));
    await new Promise<void>((done, fail) => {
      this.pending.push({
        partition: batch.partition,
        messages,
        heartbeat: () => payload.heartbeat(),
        done,
        fail,
      });
      this.pendingMessages += batch.messages.length;
      this.schedule();
    });
    payload.resolveOffset(batch.lastOffset());
    await payload.commitOffsetsIfNecessary();
    this.metrics.lag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
  }

  private schedule(): void {
    if (this.flushing || this.stopping) return;
    if (this.pendingMessages >= this.options.batchMaxRows) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.startFlush();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.startFlush();
      }, this.options.flushIntervalMs);
    }
  }

  private startFlush(): void {
    if (this.flushing || this.pending.length === 0) return;
    const batches = this.pending.splice(0);
    this.pendingMessages = 0;
    this.flushing = this.flushWithRetry(batches).finally(() => {
      this.flushing = undefined;
      // What arrived during that flush has waited long enough: it goes now, not after another interval.
      if (this.pending.length > 0 && !this.stopping) this.startFlush();
    });
  }

  private async flushWithRetry(batches: PendingBatch[]): Promise<void> {
    const beat = setInterval(() => {
      for (const b of batches) b.heartbeat().catch(() => undefined);
    }, 3_000);
    let backoff = this.options.retryMinMs;
    // The first attempt sends the events' original lines; a retry sends them as JSON.stringify spells them, so a line
    // that JavaScript accepted but ClickHouse's JSON reader refuses (a duplicate key, say) cannot hold the consumer.
    // Still exactly once: a retry redoes the whole flush, whose event-id check skips whatever part of the failed
    // INSERT ClickHouse did store (an INSERT of several blocks is not atomic), and mends the rollups of those events.
    let canonical = false;
    try {
      for (;;) {
        try {
          const started = process.hrtime.bigint();
          await this.flush(batches, canonical);
          this.metrics.flushSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
          if (backoff !== this.options.retryMinMs) this.logger.log('ClickHouse is back: flushes resumed');
          this.metrics.clickhouseAvailable.set(1);
          for (const b of batches) b.done();
          return;
        } catch (error) {
          // Part of a failed INSERT may be stored: what the index knows is no longer complete.
          this.watermarks = undefined;
          this.recent = undefined;
          canonical = true;
          if (this.stopping) throw error;
          if (backoff === this.options.retryMinMs) {
            this.logger.error(`flush failed, consumer paused and retrying: ${(error as Error).message}`);
          }
          this.metrics.clickhouseAvailable.set(0);
          await new Promise((resolve) => setTimeout(resolve, backoff));
          backoff = Math.min(backoff * 2, this.options.retryMaxMs);
        }
      }
    } catch (error) {
      for (const b of batches) b.fail(error as Error);
    } finally {
      clearInterval(beat);
    }
  }

  /** Stores one flush exactly once; safe to repeat after any partial failure. */
  private async flush(batches: PendingBatch[], canonical: boolean): Promise<FlushOutcome> {
    const watermarks = (this.watermarks ??= await this.store.watermarks(this.topic));
    const recent = (this.recent ??= await this.loadRecent());
    const progress = new Map<number, number>();
    let capacity = 0;
    for (const { messages } of batches) for (const m of messages) capacity += m.value.length + m.ids.length * 64;
    // One flush at a time: each reuses the last one's buffer once its insert is over.
    const body = new IntakeBody(capacity, this.spareBody);
    this.spareBody = undefined;
    // Events older than the index's horizon, and events the index loaded from ClickHouse: message and index in it.
    const older: [DecodedMessage, number][] = [];
    const loaded: RequestLogEvent[] = [];
    const dead: DeadLetter[] = [];
    const seenOlder = new Set<string>();
    let total = 0;
    let duplicates = 0;
    let remembered = 0;
    for (const { partition, messages } of batches) {
      const watermark = watermarks.get(partition) ?? -1;
      for (const message of messages) {
        const { offset, lines, ids, seconds } = message;
        total++;
        if (offset > (progress.get(partition) ?? -1)) progress.set(partition, offset);
        if (offset <= watermark) {
          duplicates += Math.max(1, lines);
          continue;
        }
        for (const letter of message.dead) dead.push(letter);
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i];
          const second = seconds[i];
          if (recent.covers(second)) {
            // Claimed now, before the insert: a copy later in this flush is a duplicate, and a failed flush drops
            // the whole index.
            const known = recent.claim(id, second);
            remembered++;
            if (known === Known.No) addToBody(body, message, i, canonical);
            else if (known === Known.Inserted) duplicates++;
            else loaded.push(eventOf(message, i));
          } else if (seenOlder.has(id)) {
            duplicates++;
          } else {
            seenOlder.add(id);
            older.push([message, i]);
          }
        }
      }
    }
    // Events older than the index's horizon are looked up in ClickHouse; only those found stored are skipped.
    const olderEvents = older.map(([message, i]) => eventOf(message, i));
    const found = older.length > 0 ? await this.store.existingEventIds(olderEvents) : new Set<string>();
    this.metrics.idLookups.inc({ where: 'memory' }, remembered);
    if (older.length > 0) this.metrics.idLookups.inc({ where: 'clickhouse' }, older.length);
    const stored = [...loaded, ...olderEvents.filter((event) => found.has(event.eventId))];
    if (stored.length > 0) {
      // Events stored above the watermark: a crash after their rows, or a client re-sending. Mend any rollup the
      // crash may have cut off before this flush adds its own rows (the store explains the window).
      const repaired = await this.store.repairRollups(stored);
      if (repaired > 0) this.logger.warn(`restored ${repaired} requests to the rollups after an interrupted insert`);
    }
    duplicates += stored.length;
    for (let k = 0; k < older.length; k++) {
      if (!found.has(olderEvents[k].eventId)) addToBody(body, older[k][0], older[k][1], canonical);
    }
    await this.store.insertIntakeBody(body);
    if (body.storage.length <= MAX_SPARE_BODY_BYTES) this.spareBody = body.storage;
    if (dead.length > 0) await this.sendDeadLetters(dead);
    await this.store.saveWatermarks(this.topic, progress);
    for (const [partition, offset] of progress) watermarks.set(partition, offset);
    recent.trim();
    this.metrics.recentIds.set(recent.size);

    this.metrics.batchSize.observe(total);
    this.metrics.rowsInserted.inc(body.rows);
    this.metrics.messages.inc({ outcome: 'stored' }, body.rows);
    if (duplicates > 0) this.metrics.messages.inc({ outcome: 'duplicate' }, duplicates);
    if (dead.length > 0) {
      this.metrics.messages.inc({ outcome: 'dead_lettered' }, dead.length);
      this.metrics.deadLetters.inc(dead.length);
    }
    return { stored: body.rows, duplicates, deadLettered: dead.length };
  }

  private async loadRecent(): Promise<RecentEventIds> {
    const since = Math.floor((Date.now() - this.options.recentIdsWindowMs) / 1_000);
    const recent = await this.store.loadRecentEventIds(since, this.options.recentIdsMax);
    this.metrics.recentIds.set(recent.size);
    this.logger.log(
      `remembers ${recent.size} stored events since ${new Date(recent.from * 1_000).toISOString()}; older ones are looked up in ClickHouse`,
    );
    return recent;
  }

  private async sendDeadLetters(dead: DeadLetter[]): Promise<void> {
    const at = new Date().toISOString();
    const messages = dead.map(({ partition, message, reason }) => ({
      key: message.key,
      value: message.value,
      headers: {
        'dlq-reason': reason.slice(0, 2_000),
        'dlq-source-topic': this.topic,
        'dlq-source-partition': String(partition),
        'dlq-source-offset': message.offset,
        'dlq-at': at,
      },
    }));
    // The dead-letter topic has one partition: keep each request under the broker's record-batch limit.
    for (let start = 0; start < messages.length;) {
      let bytes = 0;
      let end = start;
      while (end < messages.length && (end === start || bytes + (messages[end].value?.length ?? 0) < 800_000)) {
        bytes += (messages[end].value?.length ?? 0) + 2_200;
        end++;
      }
      await this.deadLetters!.send({ topic: this.deadLetterTopic, acks: -1, messages: messages.slice(start, end) });
      start = end;
    }
  }
}
