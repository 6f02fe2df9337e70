import { SEVERITY_RANK, type Finding, type SeverityLevel } from './rules';

export interface OpenFlagView {
  id: string;
  severity: SeverityLevel;
  version: number;
}

/**
 * What a cycle does with one account × kind: open a flag, escalate it (higher severity: the enforcer looks again),
 * update its evidence, resolve it (the rule no longer holds, hysteresis included), or nothing. A flag never
 * de-escalates: severity stays at its peak until resolved, so a restriction is not undercut mid-way.
 */
export type FlagAction =
  | { action: 'open'; finding: Finding }
  | { action: 'escalate'; flagId: string; finding: Finding }
  | { action: 'update'; flagId: string; finding: Finding }
  | { action: 'resolve'; flagId: string }
  | { action: 'none' };

export function decideFlag(open: OpenFlagView | null, finding: Finding | null): FlagAction {
  if (!open) return finding ? { action: 'open', finding } : { action: 'none' };
  if (!finding) return { action: 'resolve', flagId: open.id };
  if (SEVERITY_RANK[finding.severity] > SEVERITY_RANK[open.severity]) {
    return { action: 'escalate', flagId: open.id, finding };
  }
  return { action: 'update', flagId: open.id, finding: { ...finding, severity: open.severity } };
}

/** Whether an action must wake the enforcer (jobId flag-<id>-v<version> keeps it to one job per state). */
export const wakesEnforcer = (action: FlagAction): boolean => action.action === 'open' || action.action === 'escalate';
