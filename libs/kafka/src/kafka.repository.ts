// Before kafkajs: its record batches' checksum, computed natively (see the module).
import './kafkajs-crc32c';
import './kafkajs-encoder';
import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { TOPICS } from '@usageguard/contracts';
import {
  type Admin,
  ConfigResourceTypes,
  type Consumer,
  type ConsumerConfig,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
  type ProducerConfig,
} from 'kafkajs';

/** Optional extra kafkajs client settings (tests route every broker connection through a fault proxy with it). */
export const KAFKA_CLIENT_OVERRIDES = Symbol('KAFKA_CLIENT_OVERRIDES');

/**
 * The request-log topic's record-batch limit (topic `max.message.bytes`; the broker's default, `message.max.bytes`, is
 * 1 MiB). RequestLogProducer puts up to a whole batch (10,000 events, about 4 MB) in one produce request, and with one
 * hot account all of it is one partition's record batch: the limit must hold that. Larger requests make larger
 * messages (more of each account's events per record), and the Kafka client's cost is per record.
 */
export const REQUEST_LOG_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export interface TopicSpec {
  topic: string;
  partitions: number;
  config?: Record<string, string>;
}

/**
 * The project's door to Kafka. Topic and group names pass through topic()/group() so that one prefix isolates an
 * environment (or a test run) on a shared cluster.
 */
@Injectable()
export class KafkaRepository implements OnModuleDestroy {
  readonly kafka: Kafka;
  private readonly prefix: string;
  private readonly partitions: number;
  private readonly replicationFactor: number;
  private readonly owned = new Set<{ disconnect(): Promise<void> }>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() @Inject(KAFKA_CLIENT_OVERRIDES) overrides?: Partial<KafkaConfig>,
  ) {
    this.prefix = config.kafka.topicPrefix;
    this.partitions = config.kafka.partitions;
    this.replicationFactor = config.kafka.replicationFactor;
    this.kafka = new Kafka({
      clientId: config.kafka.clientId,
      brokers: config.kafka.brokers,
      logLevel: logLevel.WARN,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { initialRetryTime: 100, retries: 5 },
      ...overrides,
    });
  }

  topic(name: string): string {
    return `${this.prefix}${name}`;
  }

  group(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** The topics every installation needs, with explicit partition counts. */
  defaultTopics(): TopicSpec[] {
    return [
      {
        topic: this.topic(TOPICS.requestLogs),
        partitions: this.partitions,
        config: { 'max.message.bytes': String(REQUEST_LOG_MAX_MESSAGE_BYTES) },
      },
      {
        topic: this.topic(TOPICS.requestLogsDeadLetter),
        partitions: 1,
        // A refused message goes there whole, with headers added: it must fit.
        config: {
          'retention.ms': String(30 * 86_400_000),
          'max.message.bytes': String(REQUEST_LOG_MAX_MESSAGE_BYTES + 1024 * 1024),
        },
      },
    ];
  }

  /** Creates missing topics through the admin API and waits for their leaders (auto-create is off). */
  async ensureTopics(specs: TopicSpec[] = this.defaultTopics()): Promise<string[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions,
            replicationFactor: this.replicationFactor,
            configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
      }
      return missing.map((s) => s.topic);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * A topic's record-batch limit (`max.message.bytes`, its own or the broker's default), asked up to `attempts` times
   * (a broker that just started, or a topic just created, can fail the first request); undefined if unreadable.
   */
  async maxMessageBytes(topic: string, attempts = 3): Promise<number | undefined> {
    for (let attempt = 1; ; attempt++) {
      const bytes = await this.readMaxMessageBytes(topic);
      if (bytes !== undefined || attempt >= attempts) return bytes;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }

  private async readMaxMessageBytes(topic: string): Promise<number | undefined> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
      });
      const entry = resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes');
      const bytes = Number(entry?.configValue);
      return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
    } catch {
      return undefined;
    } finally {
      await admin.disconnect();
    }
  }

  /** Throws unless a broker answers a metadata request. */
  async ping(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.describeCluster();
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * An idempotent producer (acks from all in-sync replicas); disconnected with the module unless `selfManaged`, for
   * callers that must flush before disconnecting (module destroy order is not guaranteed).
   */
  producer(config: ProducerConfig = {}, { selfManaged = false }: { selfManaged?: boolean } = {}): Producer {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      // murmur2 partitioning, as the Java client: key = account id keeps an account on one partition everywhere.
      createPartitioner: Partitioners.DefaultPartitioner,
      ...config,
    });
    if (!selfManaged) this.owned.add(producer);
    return producer;
  }

  consumer(config: ConsumerConfig): Consumer {
    const consumer = this.kafka.consumer({
      allowAutoTopicCreation: false,
      ...config,
      groupId: this.group(config.groupId),
    });
    this.owned.add(consumer);
    return consumer;
  }

  admin(): Admin {
    const admin = this.kafka.admin();
    this.owned.add(admin);
    return admin;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.owned].map((client) => client.disconnect()));
    this.owned.clear();
  }
}
