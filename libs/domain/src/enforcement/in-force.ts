import { type LadderDecision, restrictionExpiry, type RestrictionModeName } from './ladder';

/**
 * A flag for an account that already has a restriction in force: one incident, one restriction, one email. The flag
 * joins the restriction in force unless it warrants something stronger, and then that restriction is escalated in
 * place. Pure: the enforcer reads the restriction in force under the account lock and acts on the outcome.
 */

/** The restriction in force on the key the flag's restriction would take (automatic ones are account-wide). */
export interface InForce {
  mode: RestrictionModeName;
  throttleFactor: number | null;
  startsAt: Date;
  expiresAt: Date;
}

export type FlagProposal = Pick<LadderDecision, 'mode' | 'throttleFactor' | 'durationSeconds' | 'approval'>;

export type FlagOutcome =
  /** Nothing in force (or only a warning the flag outranks, or an escalation ops must approve): a restriction of its own. */
  | { action: 'apply' }
  /** Recorded against the restriction in force; nothing changes at the edge and no email is sent. */
  | { action: 'join' }
  /** The restriction in force takes the flag's rung, and never ends earlier than it would have. */
  | { action: 'escalate'; expiresAt: Date };

const MODE_RANK: Record<RestrictionModeName, number> = { notify: 0, throttle: 1, block: 2 };

/**
 * Stronger means a harsher effect (block over throttle over notify, a smaller throttle factor), or the same effect
 * for longer: a rung whose duration exceeds the whole span of the restriction in force and that ends later. A flag
 * on the same rung a minute after the first is therefore not stronger, although it would end a minute later.
 */
export function isStronger(inForce: InForce, proposed: FlagProposal, now: Date): boolean {
  const rank = MODE_RANK[proposed.mode] - MODE_RANK[inForce.mode];
  if (rank !== 0) return rank > 0;
  if (proposed.mode === 'throttle' && proposed.throttleFactor !== inForce.throttleFactor) {
    return (proposed.throttleFactor ?? 1) < (inForce.throttleFactor ?? 1);
  }
  const span = inForce.expiresAt.getTime() - inForce.startsAt.getTime();
  return proposed.durationSeconds * 1000 > span && restrictionExpiry(now, proposed.durationSeconds) > inForce.expiresAt;
}

export function weighFlag(inForce: InForce | null, proposed: FlagProposal, now: Date): FlagOutcome {
  if (!inForce) return { action: 'apply' };
  if (!isStronger(inForce, proposed, now)) return { action: 'join' };
  // A warning is no restriction: the first real one is announced as such (and ends the warning). An escalation ops
  // must approve waits as a proposal; approving it replaces the restriction in force.
  if (inForce.mode === 'notify' || proposed.approval === 'ops') return { action: 'apply' };
  const until = restrictionExpiry(now, proposed.durationSeconds);
  return { action: 'escalate', expiresAt: until > inForce.expiresAt ? until : inForce.expiresAt };
}
