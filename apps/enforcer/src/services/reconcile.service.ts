import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { PrismaRepository } from '@usageguard/database';
import { QueueRepository } from '@usageguard/queue';
import { RestrictionStore } from '@usageguard/redis';
import { SYSTEM_ACTOR } from './audit.writer';
import { isEdgeRestriction, scopeName, toRecord } from './restriction.mapper';
import { RestrictionService } from './restriction.service';

export interface ReconcileSummary {
  written: number;
  unchanged: number;
  removed: number;
  stale: number;
  expired: number;
  expiriesQueued: number;
  notificationsQueued: number;
}

/** Outbox rows older than this and still unclaimed are re-queued (their first enqueue may have been lost). */
const OUTBOX_GRACE_MS = 30_000;
const RECONCILE_EVERY_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Postgres is the source of truth; this makes Redis and the queues agree with it: every active restriction's
 * record is written (the version guard keeps a newer one), records no active restriction backs are removed,
 * every active restriction has its expiry job, and every unsent outbox row a send job. Runs at start-up and
 * every minute, so a lost write or a flushed Redis is repaired without anyone asking.
 */
@Injectable()
export class ReconcileService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReconcileService.name);

  constructor(
    @Inject(PrismaRepository) private readonly prisma: PrismaRepository,
    @Inject(RestrictionStore) private readonly store: RestrictionStore,
    @Inject(QueueRepository) private readonly queue: QueueRepository,
    @Inject(RestrictionService) private readonly restrictions: RestrictionService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.enqueue('enforcer', 'reconcile-restrictions', {}, { jobId: `reconcile-start-${Date.now()}` });
    await this.queue.schedule('enforcer', 'reconcile-restrictions', {}, RECONCILE_EVERY_MS);
  }

  async reconcile(): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = {
      written: 0,
      unchanged: 0,
      removed: 0,
      stale: 0,
      expired: 0,
      expiriesQueued: 0,
      notificationsQueued: 0,
    };
    // Redis first, then the versions Postgres knows, then the active restrictions: a restriction committed after
    // the versions were read carries a higher version than they know, so the removal guard leaves its record alone.
    const indexed = await this.store.indexedKeys();
    const known = await this.knownVersions([...new Set(indexed.map((i) => i.accountId))].filter((id) => UUID.test(id)));
    const now = new Date();
    const active = await this.prisma.restriction.findMany({ where: { status: 'ACTIVE' } });

    const backed = new Set<string>();
    for (const restriction of active) {
      if (restriction.expiresAt.getTime() <= now.getTime()) {
        // Overdue (its job was lost with a flushed Redis, or gave up): expire it here, through the same path.
        const ended = await this.restrictions.end(
          restriction.id,
          'expired',
          SYSTEM_ACTOR,
          'expired',
          restriction.version,
        );
        if (ended.outcome === 'expired') summary.expired++;
        continue;
      }
      if (isEdgeRestriction(restriction)) {
        const key = this.store.keyOf(
          restriction.accountId,
          scopeName(restriction),
          restriction.scope === 'ACCOUNT' ? null : restriction.scopeValue,
        );
        backed.add(key);
        summary[await this.store.put(toRecord(restriction))]++;
      }
      await this.restrictions.scheduleExpiry(restriction);
      summary.expiriesQueued++;
    }

    const orphans = indexed.filter(({ key }) => !backed.has(key));
    for (const { accountId, key, lastVersion } of orphans) {
      // Postgres never had a restriction there (a stray write): the version seen at the scan is the guard.
      const outcome = await this.store.removeKey(accountId, key, known.get(key) ?? lastVersion);
      if (outcome === 'stale') summary.stale++;
      else summary.removed++;
    }

    const unsent = await this.prisma.notification.findMany({
      where: { status: 'PENDING', messageId: null, createdAt: { lt: new Date(now.getTime() - OUTBOX_GRACE_MS) } },
      select: { id: true, attempts: true },
      take: 1000,
    });
    for (const row of unsent) {
      // At most one extra job per row and hour: enough for a lost first enqueue (picked up within a minute or two)
      // and for a job that used up its attempts (hours of backoff) during a long SMTP outage, without piling up.
      await this.queue.enqueue(
        'mail',
        'send-notification',
        { notificationId: row.id },
        { jobId: `notify-${row.id}-sweep-${Math.floor(now.getTime() / 3_600_000)}`, attempts: 15 },
      );
      summary.notificationsQueued++;
    }
    if (summary.written + summary.removed + summary.expired > 0)
      this.logger.log(`reconciled: ${JSON.stringify(summary)}`);
    return summary;
  }

  /** The highest version Postgres has for each Redis key of these accounts. */
  private async knownVersions(accountIds: string[]): Promise<Map<string, number>> {
    const known = new Map<string, number>();
    if (accountIds.length === 0) return known;
    const rows = await this.prisma.restriction.groupBy({
      by: ['accountId', 'scope', 'scopeValue'],
      where: { accountId: { in: accountIds } },
      _max: { version: true },
    });
    for (const row of rows) {
      const scope = scopeName(row);
      known.set(
        this.store.keyOf(row.accountId, scope, scope === 'account' ? null : row.scopeValue),
        row._max.version ?? 0,
      );
    }
    return known;
  }
}
