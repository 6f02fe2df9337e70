import { z } from 'zod';

/**
 * Restriction record: written to Redis by the enforcer, read by every edge (ARCHITECTURE.md, "Contracts").
 *
 * Key:      <prefix>restriction:{<accountId>}:<scope>:<scopeValue or *>   (hash tag = account, Redis Cluster-ready)
 *           value = this record as JSON; the key's TTL is the time left until expiresAt.
 * Index:    <prefix>restrictions:{<accountId>}  a set of the account's restriction keys (lets an edge load them at once)
 * Channel:  <prefix>restrictions               a RestrictionAnnouncement on every change
 *
 * Edges never apply a record whose version is lower than one they already hold for the same key.
 */
export const RESTRICTION_SCOPES = ['account', 'token', 'ip', 'route'] as const;
export const RESTRICTION_MODES = ['block', 'throttle'] as const;

export const restrictionRecordSchema = z.strictObject({
  id: z.string().min(1),
  accountId: z.string().min(1),
  scope: z.enum(RESTRICTION_SCOPES),
  /** Token id, IP, or route template; null for the account scope. */
  scopeValue: z.string().min(1).nullable(),
  mode: z.enum(RESTRICTION_MODES),
  /** For throttle: the fraction of the plan's limits that remains (0 < f < 1). */
  throttleFactor: z.number().gt(0).lt(1).nullable(),
  /** Status a blocked request is answered with: 429, or 503 as Kobble uses. */
  statusCode: z.union([z.literal(429), z.literal(503), z.literal(403)]),
  /** Machine-readable reason, e.g. `sustained_excess`; shown to the customer in the error body. */
  reasonCode: z.string().min(1).max(64),
  reason: z.string().max(500),
  /** Epoch milliseconds. */
  expiresAt: z.number().int().positive(),
  /** Grows with every change at this key, across restrictions: a new restriction on a key outranks the lifted one. */
  version: z.number().int().positive(),
});

export type RestrictionRecord = z.infer<typeof restrictionRecordSchema>;
export type RestrictionScopeName = (typeof RESTRICTION_SCOPES)[number];

export const restrictionAnnouncementSchema = z.strictObject({
  action: z.enum(['upsert', 'remove']),
  accountId: z.string().min(1),
  key: z.string().min(1),
  version: z.number().int().positive(),
});
export type RestrictionAnnouncement = z.infer<typeof restrictionAnnouncementSchema>;

export const restrictionKeys = {
  record: (prefix: string, accountId: string, scope: RestrictionScopeName, scopeValue: string | null) =>
    `${prefix}restriction:{${accountId}}:${scope}:${scopeValue ?? '*'}`,
  index: (prefix: string, accountId: string) => `${prefix}restrictions:{${accountId}}`,
  channel: (prefix: string) => `${prefix}restrictions`,
};
