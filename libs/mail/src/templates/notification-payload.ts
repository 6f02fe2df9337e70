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
  /** applied: a new restriction or an extension; lifted: ended early by ops or expired. */
  change: 'applied' | 'extended' | 'expired' | 'lifted';
  supportEmail: string | null;
  burstNoticeUrl: string | null;
}
