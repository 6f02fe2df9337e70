/**
 * The one catalogue of BullMQ queues and jobs (STYLE.md convention 5). Each job name maps to its payload type;
 * handlers register with @JobHandler(queue, name) and the queue lib refuses to start when a job of a queue it
 * serves has no handler, or two.
 */
/** Who asked for a change; written to the audit log. */
export interface OpsActor {
  type: 'SYSTEM' | 'OPS_USER' | 'CUSTOMER';
  id: string | null;
  requestId: string | null;
}

export const QUEUES = {
  analyzer: 'analyzer',
  enforcer: 'enforcer',
  mail: 'mail',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface JobCatalogue {
  analyzer: {
    /** Repeatable: fans out one analyze-shard job per shard for the window that just closed. */
    'analyze-cycle': { windowEnd?: string };
    /** Analyzes the accounts whose hash falls in this shard, for the window ending at windowEnd (ISO). */
    'analyze-shard': { shard: number; shards: number; windowEnd: string };
  };
  enforcer: {
    /** A new or escalated flag: decide the rung of the ladder, apply or ask ops for approval. */
    'evaluate-flag': { flagId: string; flagVersion: number };
    /** Delayed until expiresAt: marks the restriction expired and removes it from Redis, unless extended since. */
    'expire-restriction': { restrictionId: string; version: number };
    /** Rebuilds Redis from Postgres (start-up, and on demand). */
    'reconcile-restrictions': Record<string, never>;
    /** Ops (dashboard) decisions go through the enforcer too, so every change to a restriction has one path. */
    'review-flag': { flagId: string; decision: 'approve' | 'dismiss'; actor: OpsActor; reason: string };
    'apply-restriction': {
      accountId: string;
      mode: 'notify' | 'throttle' | 'block';
      scope: 'account' | 'token' | 'ip' | 'route';
      scopeValue: string | null;
      throttleFactor: number | null;
      statusCode: 429 | 503;
      reasonCode: string;
      durationSeconds: number;
      flagId: string | null;
      actor: OpsActor;
      reason: string;
    };
    'extend-restriction': { restrictionId: string; expiresAt: string; actor: OpsActor; reason: string };
    'lift-restriction': { restrictionId: string; actor: OpsActor; reason: string };
    /** Ops checked the mail log: a held email was not delivered, so it goes out again (same Message-ID). */
    'resend-notification': { notificationId: string; actor: OpsActor; reason: string };
  };
  mail: {
    /** Delivers one outbox row; the row's idempotency key keeps it to one email. */
    'send-notification': { notificationId: string };
  };
}

export type JobName<Q extends QueueName> = keyof JobCatalogue[Q] & string;
export type JobPayload<Q extends QueueName, J extends JobName<Q>> = JobCatalogue[Q][J];

export const JOB_NAMES: { [Q in QueueName]: JobName<Q>[] } = {
  analyzer: ['analyze-cycle', 'analyze-shard'],
  enforcer: [
    'evaluate-flag',
    'expire-restriction',
    'reconcile-restrictions',
    'review-flag',
    'apply-restriction',
    'extend-restriction',
    'lift-restriction',
    'resend-notification',
  ],
  mail: ['send-notification'],
};
