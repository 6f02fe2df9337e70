/**
 * What a restriction email says, stored in Notification.payload when the outbox row is written, so the sender can
 * render the same email on any attempt without reading anything else.
 */
export interface RestrictionEmailPayload {
  accountName: string;
  restrictionId: string;
  mode: 'notify' | 'throttle' | 'block';
  scope: 'account' | 'token' | 'ip' | 'route';
  scopeValue: string | null;
  throttleFactor: number | null;
  statusCode: number;
  reasonCode: string;
  /** Why, in an operator's words or the ladder's explanation. */
  reason: string;
  /** A summary of the evidence behind the flag; null for a manual restriction without a flag. */
  evidence: {
    kind: string;
    severity: string;
    summary: string;
    firstSeenAt: string;
    lastSeenAt: string;
    details: string[];
  } | null;
  startsAt: string;
  expiresAt: string;
  /**
   * applied: a new restriction; extended: a later end; changed: the restriction in force became stronger (a later
   * flag escalated it, or ops replaced it); lifted: ended early by ops or expired.
   */
  change: 'applied' | 'extended' | 'changed' | 'expired' | 'lifted';
  /** For `changed`: the restriction as it was before. */
  previous?: {
    mode: 'notify' | 'throttle' | 'block';
    throttleFactor: number | null;
    statusCode: number;
    expiresAt: string;
  };
  supportEmail: string | null;
  burstNoticeUrl: string | null;
}
