import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { JOB_NAMES, type JobName, type JobPayload, type QueueName } from '@usageguard/contracts';
import { Queue, QueueEvents, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { JOB_HANDLER, type JobHandlerMetadata } from './job-handler.decorator';

export const QUEUE_OPTIONS = Symbol('QUEUE_OPTIONS');

export interface QueueModuleOptions {
  /** Queues this process works on (others are only produced to). */
  serve: QueueName[];
  concurrency?: Partial<Record<QueueName, number>>;
}

/** A permanent failure: the job is discarded without further attempts (STYLE.md convention 6). */
export class UnrecoverableJobError extends UnrecoverableError {}

export interface EnqueueOptions {
  /** Deterministic id: a second enqueue with the same id is a no-op while the first job exists. */
  jobId: string;
  delayMs?: number;
  attempts?: number;
}

type Handler = (payload: unknown, job: Job) => Promise<unknown>;

/**
 * BullMQ behind one typed catalogue. Producers call enqueue(); handlers are found by @JobHandler at start-up,
 * and a served job with no handler or two handlers stops the process.
 */
@Injectable()
export class QueueRepository implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(QueueRepository.name);
  private readonly connection: Redis;
  private readonly prefix: string;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];
  private readonly events = new Map<QueueName, QueueEvents>();
  /** Schedulers this process registered, so they can be registered again when Redis lost them. */
  private readonly schedules = new Map<string, () => Promise<void>>();
  private scheduleTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(QUEUE_OPTIONS) private readonly options: QueueModuleOptions,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    // BullMQ workers block on Redis; they need a connection that retries forever rather than failing commands.
    this.connection = new Redis(config.redis.url, { maxRetriesPerRequest: null, enableReadyCheck: false });
    this.connection.on('error', () => undefined);
    // Redis here keeps nothing on disk: a restart forgets BullMQ's schedulers, and nothing else would bring back the
    // analyzer's cycles or the enforcer's reconcile. Register them again after every reconnect, and every minute in
    // case the data went without the connection (a FLUSHALL).
    this.connection.on('ready', () => void this.reschedule());
    this.prefix = `${config.redis.prefix}bull`;
  }

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue<Q extends QueueName, J extends JobName<Q>>(
    queue: Q,
    name: J,
    payload: JobPayload<Q, J>,
    options: EnqueueOptions,
  ): Promise<void> {
    const jobOptions: JobsOptions = {
      jobId: options.jobId,
      delay: options.delayMs,
      attempts: options.attempts ?? 10,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: { age: 7 * 86_400 },
    };
    await this.queue(queue).add(name, payload, jobOptions);
  }

  /**
   * Enqueues and waits for the job's outcome (for an operator waiting on a button): resolves with the handler's
   * return value, rejects with its error or after timeoutMs. The job itself goes on even if the caller gives up.
   */
  async enqueueAndWait<Q extends QueueName, J extends JobName<Q>>(
    queue: Q,
    name: J,
    payload: JobPayload<Q, J>,
    options: EnqueueOptions & { timeoutMs?: number },
  ): Promise<unknown> {
    let events = this.events.get(queue);
    if (!events) {
      events = new QueueEvents(queue, { connection: this.connection.duplicate(), prefix: this.prefix });
      this.events.set(queue, events);
      await events.waitUntilReady();
    }
    const job = await this.queue(queue).add(name, payload, {
      jobId: options.jobId,
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: { age: 7 * 86_400 },
    });
    return job.waitUntilFinished(events, options.timeoutMs ?? 10_000);
  }

  /** A repeatable job (scheduler), replaced when its pattern changes. */
  async schedule<Q extends QueueName, J extends JobName<Q>>(
    queue: Q,
    name: J,
    payload: JobPayload<Q, J>,
    everyMs: number,
  ): Promise<void> {
    const register = async () => {
      await this.queue(queue).upsertJobScheduler(`${name}:every`, { every: everyMs }, { name, data: payload });
    };
    this.schedules.set(`${queue}/${name}`, register);
    await register();
    this.scheduleTimer ??= setInterval(() => void this.reschedule(), 60_000).unref();
  }

  private async reschedule(): Promise<void> {
    for (const [key, register] of this.schedules) {
      await register().catch((error: Error) =>
        this.logger.warn(`could not register scheduler ${key}: ${error.message}`),
      );
    }
  }

  onApplicationBootstrap(): void {
    const handlers = this.discoverHandlers();
    for (const queue of this.options.serve) {
      const byName = handlers.get(queue) ?? new Map<string, Handler>();
      const missing = JOB_NAMES[queue].filter((name) => !byName.has(name));
      if (missing.length > 0) throw new Error(`queue ${queue}: no handler for ${missing.join(', ')}`);
      const worker = new Worker(
        queue,
        async (job: Job) => {
          const handler = byName.get(job.name);
          if (!handler) throw new UnrecoverableJobError(`unknown job ${job.name}`);
          return handler(job.data, job);
        },
        { connection: this.connection, prefix: this.prefix, concurrency: this.options.concurrency?.[queue] ?? 4 },
      );
      worker.on('failed', (job, error) =>
        this.logger.warn(
          `job ${queue}/${job?.name} ${job?.id} failed (attempt ${job?.attemptsMade}): ${error.message}`,
        ),
      );
      worker.on('error', (error) => this.logger.error(`worker ${queue}: ${error.message}`));
      this.workers.push(worker);
    }
  }

  private discoverHandlers(): Map<QueueName, Map<string, Handler>> {
    const found = new Map<QueueName, Map<string, Handler>>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const target = (instance as Record<string, unknown>)[method];
        if (typeof target !== 'function') continue;
        const meta = this.reflector.get<JobHandlerMetadata | undefined>(JOB_HANDLER, target as () => void);
        if (!meta) continue;
        const byName = found.get(meta.queue) ?? new Map<string, Handler>();
        if (byName.has(meta.name)) throw new Error(`duplicate handler for ${meta.queue}/${meta.name}`);
        byName.set(meta.name, (target as Handler).bind(instance));
        found.set(meta.queue, byName);
      }
    }
    return found;
  }

  async ping(): Promise<void> {
    await this.connection.ping();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.scheduleTimer);
    this.schedules.clear();
    await Promise.allSettled(this.workers.map((w) => w.close()));
    await Promise.allSettled([...this.events.values()].map((e) => e.close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    await this.connection.quit().catch(() => undefined);
  }
}
