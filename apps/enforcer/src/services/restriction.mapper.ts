import { type RestrictionRecord, type RestrictionScopeName } from '@usageguard/contracts';
import { type Restriction } from '@usageguard/database';
import { type InForce } from '@usageguard/domain';

/** The shape every enforcer job returns (the dashboard shows it after enqueueAndWait). */
export interface RestrictionSummary {
  outcome:
    | 'applied'
    | 'proposed'
    | 'approved'
    | 'extended'
    | 'escalated'
    | 'lowered'
    | 'joined'
    | 'lifted'
    | 'expired'
    | 'rejected'
    | 'unchanged'
    | 'skipped';
  restrictionId: string | null;
  accountId: string | null;
  status: Restriction['status'] | null;
  mode: Restriction['mode'] | null;
  level: number | null;
  version: number | null;
  expiresAt: string | null;
  /** What happened at the edge's copy: deferred means reconcile will write it (Redis was unreachable). */
  edge: 'written' | 'unchanged' | 'removed' | 'stale' | 'none' | 'deferred';
  note?: string;
}

export function summarize(
  outcome: RestrictionSummary['outcome'],
  restriction: Restriction | null,
  edge: RestrictionSummary['edge'] = 'none',
  note?: string,
): RestrictionSummary {
  return {
    outcome,
    restrictionId: restriction?.id ?? null,
    accountId: restriction?.accountId ?? null,
    status: restriction?.status ?? null,
    mode: restriction?.mode ?? null,
    level: restriction?.level ?? null,
    version: restriction?.version ?? null,
    expiresAt: restriction?.expiresAt.toISOString() ?? null,
    edge,
    ...(note ? { note } : {}),
  };
}

export function scopeName(restriction: Pick<Restriction, 'scope'>): RestrictionScopeName {
  return restriction.scope.toLowerCase() as RestrictionScopeName;
}

/** Only throttle and block reach the edge; notify is an email. */
export function isEdgeRestriction(restriction: Pick<Restriction, 'mode'>): boolean {
  return restriction.mode !== 'NOTIFY';
}

/** The restriction as the ladder's in-force rule (libs/domain weighFlag) sees it. */
export function toInForce(restriction: Restriction): InForce {
  return {
    mode: restriction.mode === 'BLOCK' ? 'block' : restriction.mode === 'THROTTLE' ? 'throttle' : 'notify',
    throttleFactor: restriction.throttleFactor,
    startsAt: restriction.startsAt,
    expiresAt: restriction.expiresAt,
  };
}

export function toRecord(restriction: Restriction): RestrictionRecord {
  if (restriction.mode === 'NOTIFY') throw new Error(`restriction ${restriction.id} is notify-only`);
  const statusCode = restriction.statusCode;
  return {
    id: restriction.id,
    accountId: restriction.accountId,
    scope: scopeName(restriction),
    scopeValue: restriction.scope === 'ACCOUNT' ? null : restriction.scopeValue,
    mode: restriction.mode === 'BLOCK' ? 'block' : 'throttle',
    throttleFactor: restriction.mode === 'THROTTLE' ? restriction.throttleFactor : null,
    statusCode: statusCode === 503 || statusCode === 403 ? statusCode : 429,
    reasonCode: restriction.reasonCode.slice(0, 64),
    reason: restriction.reason.slice(0, 500),
    expiresAt: restriction.expiresAt.getTime(),
    version: restriction.version,
  };
}
