import { type Email } from './layout';
import { type RestrictionEmailPayload } from './notification-payload';
import { restrictionAppliedEmail } from './restriction-applied.template';
import { restrictionLiftedEmail } from './restriction-lifted.template';
import { warningEmail } from './warning.template';

export type { Email } from './layout';
export type { RestrictionEmailPayload } from './notification-payload';
export { escapeHtml, formatInstant } from './layout';

export type NotificationTemplate = 'RESTRICTION_APPLIED' | 'RESTRICTION_LIFTED' | 'WARNING';

/** Renders one outbox row's email: the same payload gives the same subject, HTML and text on every attempt. */
export function renderNotification(kind: NotificationTemplate, payload: RestrictionEmailPayload, at: string): Email {
  switch (kind) {
    case 'RESTRICTION_APPLIED':
      return restrictionAppliedEmail(payload);
    case 'RESTRICTION_LIFTED':
      return restrictionLiftedEmail(payload, at);
    case 'WARNING':
      return warningEmail(payload);
  }
}
