import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type RestrictionAnnouncement,
  type RestrictionRecord,
  restrictionAnnouncementSchema,
  restrictionKeys,
  restrictionRecordSchema,
} from '@usageguard/contracts';
import type { Redis } from 'ioredis';
import { RedisRepository } from './redis.repository';

/**
 * Reads the restriction records the enforcer writes (libs/contracts restriction-record.ts) and follows their
 * announcements. The edge keeps a complete local copy: loadAll() at start and after every reconnect (announcements
 * sent while disconnected are lost), then one GET per announced change.
 */
@Injectable()
export class RestrictionReaderRepository {
  private readonly logger = new Logger(RestrictionReaderRepository.name);

  constructor(@Inject(RedisRepository) private readonly redis: RedisRepository) {}

  /** The Redis key a record lives under (announcements name records by it). */
  keyOf(record: RestrictionRecord): string {
    return restrictionKeys.record(this.redis.prefix, record.accountId, record.scope, record.scopeValue);
  }

  get channel(): string {
    return restrictionKeys.channel(this.redis.prefix);
  }

  /** Every live record, through SCAN (never KEYS) and MGET in batches; malformed records are skipped and logged. */
  async loadAll(): Promise<RestrictionRecord[]> {
    const match = `${this.redis.prefix}restriction:*`;
    const records: RestrictionRecord[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) records.push(...(await this.getMany(keys)));
    } while (cursor !== '0');
    return records;
  }

  /** One record by key, or null when it is gone (expired or removed) or malformed. */
  async get(key: string): Promise<RestrictionRecord | null> {
    const [record] = await this.getMany([key]);
    return record ?? null;
  }

  /**
   * Subscribes on a connection of its own. `onAnnouncement` gets every valid announcement; `onReady` runs after each
   * (re)connection so the caller can resync. Returns a function that unsubscribes and closes the connection.
   */
  async subscribe(
    onAnnouncement: (announcement: RestrictionAnnouncement) => void,
    onReady: () => void,
  ): Promise<() => Promise<void>> {
    const subscriber: Redis = this.redis.connect({ maxRetriesPerRequest: null });
    subscriber.on('message', (_channel: string, message: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        this.logger.warn(`ignored a restriction announcement that is not JSON`);
        return;
      }
      const announcement = restrictionAnnouncementSchema.safeParse(parsed);
      if (announcement.success) onAnnouncement(announcement.data);
      else this.logger.warn(`ignored a malformed restriction announcement: ${announcement.error.message}`);
    });
    let first = true;
    subscriber.on('ready', () => {
      if (first) {
        first = false;
        return;
      }
      onReady();
    });
    await subscriber.subscribe(this.channel);
    return async () => {
      await subscriber.quit().catch(() => undefined);
    };
  }

  private async getMany(keys: string[]): Promise<RestrictionRecord[]> {
    const values = await this.redis.client.mget(...keys);
    const records: RestrictionRecord[] = [];
    values.forEach((value, i) => {
      if (value === null) return;
      try {
        const parsed = restrictionRecordSchema.safeParse(JSON.parse(value));
        if (parsed.success) records.push(parsed.data);
        else this.logger.warn(`skipped malformed restriction ${keys[i]}: ${parsed.error.message}`);
      } catch {
        this.logger.warn(`skipped restriction ${keys[i]}: not JSON`);
      }
    });
    return records;
  }
}
