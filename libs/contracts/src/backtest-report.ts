/**
 * The answer of `POST /api/analyzer/backtest` (apps/analyzer) as the control plane returns it and the
 * `usageguard backtest` command reads it: one shape for both sides of the wire.
 */
export interface BacktestFlag {
  accountId: string;
  kind: string;
  firstSeenAt: string;
  severity: string;
}

export interface BacktestReport {
  from: string;
  to: string;
  cycles: number;
  accounts: number;
  current: number;
  candidate: number;
  /** Flags the candidate rules raise that the current ones do not. */
  appear: BacktestFlag[];
  /** Flags the current rules raise that the candidate ones do not. */
  disappear: BacktestFlag[];
}
