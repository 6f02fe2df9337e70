import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { RestrictionAnnouncement, RestrictionRecord } from '@usageguard/contracts';
import { RestrictionReaderRepository } from '@usageguard/redis';

/** Restrictions that concern one request: a block to answer with, or the strongest throttle. */
export interface ActiveRestrictions {
  block: RestrictionRecord | null;
  throttle: RestrictionRecord | null;
}

const RESYNC_MS = 30_000;
/** What most requests get: their account has no restriction at all. */
const NONE: Readonly<ActiveRestrictions> = Object.freeze({ block: null, throttle: null });

/**
 * The edge's local copy of every restriction (written by the enforcer): loaded at start, kept current by the
 * announcement channel (applied within milliseconds, the contract asks for one second), and fully reloaded every 30 s
 * and after every reconnection, so an announcement lost in a disconnection is repaired. Lookups are in-memory, so
 * restrictions cost the request path no Redis round trip, and they keep applying while Redis is down (until they
 * expire). A record never replaces one of a higher version.
 */
@Injectable()
export class RestrictionCacheService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RestrictionCacheService.name);
  private byAccount = new Map<string, Map<string, RestrictionRecord>>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(@Inject(RestrictionReaderRepository) private readonly reader: RestrictionReaderRepository) {}

  async onModuleInit(): Promise<void> {
    try {
      this.unsubscribe = await this.reader.subscribe(
        (a) => void this.apply(a),
        () => void this.resync(),
      );
      await this.resync();
    } catch (error) {
      this.logger.warn(`restrictions not loaded at start (retrying every ${RESYNC_MS} ms): ${String(error)}`);
    }
    this.timer = setInterval(() => void this.resync(), RESYNC_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.unsubscribe?.();
  }

  find(
    accountId: string,
    tokenId: string | null,
    clientIp: string,
    method: string,
    route: string,
  ): Readonly<ActiveRestrictions> {
    const records = this.byAccount.get(accountId);
    if (!records) return NONE;
    const found: ActiveRestrictions = { block: null, throttle: null };
    const now = Date.now();
    for (const r of records.values()) {
      if (r.expiresAt <= now) continue;
      const applies =
        r.scope === 'account' ||
        (r.scope === 'token' && r.scopeValue === tokenId) ||
        (r.scope === 'ip' && r.scopeValue === clientIp) ||
        (r.scope === 'route' && (r.scopeValue === route || r.scopeValue === `${method} ${route}`));
      if (!applies) continue;
      if (r.mode === 'block') {
        if (!found.block || r.expiresAt > found.block.expiresAt) found.block = r;
      } else if (!found.throttle || (r.throttleFactor ?? 1) < (found.throttle.throttleFactor ?? 1)) {
        found.throttle = r;
      }
    }
    return found;
  }

  async resync(): Promise<void> {
    try {
      const records = await this.reader.loadAll();
      const next = new Map<string, Map<string, RestrictionRecord>>();
      for (const r of records) this.put(next, r);
      this.byAccount = next;
    } catch (error) {
      this.logger.warn(`restriction resync failed: ${String(error)}`);
    }
  }

  private async apply(announcement: RestrictionAnnouncement): Promise<void> {
    const records = this.byAccount.get(announcement.accountId);
    const held = records?.get(announcement.key);
    if (held && held.version > announcement.version) return;
    if (announcement.action === 'remove') {
      records?.delete(announcement.key);
      return;
    }
    try {
      const record = await this.reader.get(announcement.key);
      if (record === null) records?.delete(announcement.key);
      else this.put(this.byAccount, record);
    } catch (error) {
      this.logger.warn(`restriction ${announcement.key} not loaded (next resync repairs it): ${String(error)}`);
    }
  }

  private put(target: Map<string, Map<string, RestrictionRecord>>, record: RestrictionRecord): void {
    let records = target.get(record.accountId);
    if (!records) {
      records = new Map();
      target.set(record.accountId, records);
    }
    const id = this.reader.keyOf(record);
    const held = records.get(id);
    if (held && held.version > record.version) return;
    records.set(id, record);
  }
}
