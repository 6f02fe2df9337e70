import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@usageguard/config';
import { Redis, type RedisOptions } from 'ioredis';
import { PipelinedConnection, type PipelinedConnectionOptions } from './pipelined-connection';

/**
 * Redis connections. `client` serves commands; subscribers get their own connection (a subscribed connection
 * cannot run commands). Keys and channels are named with `key()` so that REDIS_PREFIX isolates installations.
 */
@Injectable()
export class RedisRepository implements OnModuleDestroy {
  readonly client: Redis;
  readonly prefix: string;
  private readonly url: string;
  private readonly connections = new Set<{ quit(): Promise<unknown> }>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.url = config.redis.url;
    this.prefix = config.redis.prefix;
    this.client = this.connect();
  }

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  /** A new connection with the project's defaults; closed with the module. */
  connect(options: RedisOptions = {}): Redis {
    const connection = new Redis(this.url, { lazyConnect: false, maxRetriesPerRequest: 3, ...options });
    connection.on('error', () => undefined); // reconnects by itself; callers see failures on their commands
    this.connections.add(connection);
    return connection;
  }

  /** A lean pipelined connection for hot paths (pipelined-connection.ts); closed with the module. */
  connectPipelined(options: PipelinedConnectionOptions): PipelinedConnection {
    const connection = new PipelinedConnection(this.url, options);
    this.connections.add(connection);
    return connection;
  }

  async ping(): Promise<void> {
    const answer = await this.client.ping();
    if (answer !== 'PONG') throw new Error(`unexpected PING answer ${String(answer)}`);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.connections].map((c) => c.quit()));
    this.connections.clear();
  }
}
