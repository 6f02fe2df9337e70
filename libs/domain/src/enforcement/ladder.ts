import { type EnforcementConfig, type Rung, SEVERITIES, type SeverityName } from './enforcement-config';

/**
 * The enforcement ladder: which rung a flag puts an account on, and whether it applies at once or waits for ops.
 * Pure: the enforcer gathers the facts (severity, earlier offences, allowlist) and acts on the decision.
 */
export type RestrictionModeName = Rung['mode'];

export interface LadderInput {
  config: EnforcementConfig;
  severity: SeverityName;
  /** Earlier offences of the account inside the repeat window (see countOffences). */
  priorOffences: number;
  allowlisted: boolean;
  /** The plan's status for limited requests (429, or 503 as Kobble uses), when the rung names none. */
  planStatusCode: number;
}

export interface LadderDecision {
  /** Index of the rung in the ladder. */
  level: number;
  mode: RestrictionModeName;
  throttleFactor: number | null;
  statusCode: 429 | 503;
  durationSeconds: number;
  reasonCode: string;
  /** auto: apply now; ops: write it as pending approval. */
  approval: 'auto' | 'ops';
  /** Why, in words an operator (and the audit log) can read. */
  explanation: string;
}

export function severityRank(severity: SeverityName): number {
  return SEVERITIES.indexOf(severity);
}

export function decideEnforcement(input: LadderInput): LadderDecision {
  const { config, severity, allowlisted } = input;
  const prior = Math.max(0, Math.floor(input.priorOffences));
  const start = config.startRung[severity];
  const level = Math.min(start + prior, config.ladder.length - 1);
  const rung = config.ladder[level];
  const statusCode =
    rung.mode === 'notify' ? planStatus(input.planStatusCode) : (rung.statusCode ?? planStatus(input.planStatusCode));

  const auto = config.autoApplyFrom !== 'NEVER' && severityRank(severity) >= severityRank(config.autoApplyFrom);
  const why = [`${severity} flag`, prior === 0 ? 'first offence' : `${prior} earlier offence${prior > 1 ? 's' : ''}`];
  if (level < start + prior) why.push('top of the ladder');
  let approval: LadderDecision['approval'] = auto ? 'auto' : 'ops';
  if (allowlisted) {
    approval = 'ops';
    why.push('account is allowlisted: ops approval required');
  } else if (!auto) {
    why.push(
      config.autoApplyFrom === 'NEVER'
        ? 'plan requires ops approval for every restriction'
        : `below ${config.autoApplyFrom}: ops approval required`,
    );
  }
  return {
    level,
    mode: rung.mode,
    throttleFactor: rung.mode === 'throttle' ? rung.throttleFactor : null,
    statusCode,
    durationSeconds: rung.durationSeconds,
    reasonCode: config.reasonCode,
    approval,
    explanation: `rung ${level} (${rung.mode}): ${why.join(', ')}`,
  };
}

function planStatus(code: number): 429 | 503 {
  return code === 503 ? 503 : 429;
}

/** An earlier restriction of the account, as far as the ladder cares. */
export interface PastRestriction {
  id: string;
  flagId: string | null;
  status: 'PENDING_APPROVAL' | 'ACTIVE' | 'EXPIRED' | 'LIFTED' | 'REJECTED';
  createdAt: Date;
  /** Set when ops lifted it as a mistake (dismissed flag): not held against the customer. */
  forgiven?: boolean;
}

/**
 * Earlier offences inside the repeat window: one per flag (an escalated flag that superseded its own restriction
 * is still one offence), one per manual restriction. Proposals never approved, rejected ones and forgiven ones
 * do not count, nor does the flag being evaluated, nor the restriction in force it would join (`excludeRestrictionId`:
 * the same incident, not an earlier one).
 */
export function countOffences(
  past: PastRestriction[],
  options: { now: Date; windowDays: number; excludeFlagId?: string | null; excludeRestrictionId?: string | null },
): number {
  const since = options.now.getTime() - options.windowDays * 86_400_000;
  const offences = new Set<string>();
  for (const restriction of past) {
    if (restriction.status === 'PENDING_APPROVAL' || restriction.status === 'REJECTED') continue;
    if (restriction.forgiven) continue;
    if (restriction.createdAt.getTime() < since) continue;
    if (options.excludeFlagId && restriction.flagId === options.excludeFlagId) continue;
    if (options.excludeRestrictionId && restriction.id === options.excludeRestrictionId) continue;
    offences.add(restriction.flagId ? `flag:${restriction.flagId}` : `restriction:${restriction.id}`);
  }
  return offences.size;
}

/** When a restriction starting now on this rung ends. */
export function restrictionExpiry(now: Date, durationSeconds: number): Date {
  return new Date(now.getTime() + durationSeconds * 1000);
}

/** A new level only replaces the one in force when it is higher: a flag re-evaluated at the same rung is a no-op. */
export function isEscalation(current: { level: number } | null, decision: { level: number }): boolean {
  return current === null || decision.level > current.level;
}
