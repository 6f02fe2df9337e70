import { type EnforcementConfig } from '@usageguard/domain';
import { type Flag, type Prisma, type Restriction } from '@usageguard/database';
import { renderNotification, type RestrictionEmailPayload } from '@usageguard/mail';

export type NotificationChange = RestrictionEmailPayload['change'];

export interface OutboxInput {
  account: { id: string; name: string; contacts: { email: string }[] };
  restriction: Restriction;
  change: NotificationChange;
  flag: Flag | null;
  /** For a `changed` email: the restriction as it was before the change. */
  previous?: Restriction | null;
  config: Pick<EnforcementConfig, 'supportEmail' | 'burstNoticeUrl'> | null;
  at: Date;
}

/**
 * Writes the outbox row for a restriction change inside the caller's transaction (the transactional outbox): the
 * email exists if and only if the change committed. The idempotency key names the cause, so a retried cause adds
 * nothing. Returns the row's id, or null when this change sends no email.
 */
export async function writeNotification(tx: Prisma.TransactionClient, input: OutboxInput): Promise<string | null> {
  const { restriction, change } = input;
  const notify = restriction.mode === 'NOTIFY';
  // Ending or extending a warning changes nothing for the customer.
  if (notify && change !== 'applied') return null;
  const kind = notify
    ? 'WARNING'
    : change === 'expired' || change === 'lifted'
      ? 'RESTRICTION_LIFTED'
      : 'RESTRICTION_APPLIED';
  const previous = change === 'changed' ? input.previous : null;
  const payload: RestrictionEmailPayload = {
    accountName: input.account.name,
    restrictionId: restriction.id,
    mode: modeName(restriction),
    scope: restriction.scope.toLowerCase() as RestrictionEmailPayload['scope'],
    scopeValue: restriction.scopeValue,
    throttleFactor: restriction.throttleFactor,
    statusCode: restriction.statusCode,
    reasonCode: restriction.reasonCode,
    reason: restriction.reason,
    evidence: input.flag ? summarizeEvidence(input.flag) : null,
    startsAt: restriction.startsAt.toISOString(),
    expiresAt: restriction.expiresAt.toISOString(),
    change,
    supportEmail: input.config?.supportEmail ?? null,
    burstNoticeUrl: input.config?.burstNoticeUrl ?? null,
    ...(previous
      ? {
          previous: {
            mode: modeName(previous),
            throttleFactor: previous.throttleFactor,
            statusCode: previous.statusCode,
            expiresAt: previous.expiresAt.toISOString(),
          },
        }
      : {}),
  };
  const email = renderNotification(kind, payload, input.at.toISOString());
  const recipients = recipientsOf(input.account.contacts);
  const notification = await tx.notification.upsert({
    where: { idempotencyKey: `restriction:${restriction.id}:${change}:v${restriction.version}` },
    create: {
      accountId: input.account.id,
      restrictionId: restriction.id,
      kind,
      idempotencyKey: `restriction:${restriction.id}:${change}:v${restriction.version}`,
      recipients,
      subject: email.subject,
      payload: { ...payload, at: input.at.toISOString() },
      createdAt: input.at,
    },
    update: {},
  });
  return notification.id;
}

function modeName(restriction: Pick<Restriction, 'mode'>): RestrictionEmailPayload['mode'] {
  return restriction.mode === 'BLOCK' ? 'block' : restriction.mode === 'THROTTLE' ? 'throttle' : 'notify';
}

/**
 * A few lines a customer can read: the analyzer's summary plus its top routes and client addresses
 * (evidence.top, as the analyzer writes it). Token ids are internal, so they stay out of the email.
 */
export function summarizeEvidence(flag: Flag): NonNullable<RestrictionEmailPayload['evidence']> {
  const evidence = (flag.evidence ?? {}) as Record<string, unknown>;
  const top = (evidence.top ?? {}) as Record<string, unknown>;
  const details: string[] = [];
  for (const [field, label] of [
    ['routes', 'Busiest endpoints'],
    ['ips', 'Busiest client addresses'],
  ] as const) {
    const items = listOf(top[field]);
    if (items.length > 0) details.push(`${label}: ${items.slice(0, 3).join(', ')}`);
  }
  return {
    kind: flag.kind,
    severity: flag.severity,
    summary: flag.summary || (typeof evidence.summary === 'string' ? evidence.summary : ''),
    firstSeenAt: flag.firstSeenAt.toISOString(),
    lastSeenAt: flag.lastSeenAt.toISOString(),
    details,
  };
}

function listOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((item: unknown) => {
      if (typeof item === 'string') return item;
      if (item && typeof item === 'object') {
        const o = item as Record<string, unknown>;
        const name = o.value ?? o.route ?? o.ip ?? o.name;
        const count = o.count ?? o.requests;
        if (typeof name === 'string') return typeof count === 'number' ? `${name} (${count} requests)` : name;
      }
      return null;
    })
    .filter((item): item is string => item !== null);
}

/** Who an account's email goes to: each notification contact once. */
export function recipientsOf(contacts: readonly { email: string }[]): string[] {
  return [...new Set(contacts.map((c) => c.email))];
}
