import { type Email, formatInstant, renderEmail } from './layout';
import { type RestrictionEmailPayload } from './notification-payload';
import { contactBlocks, describeScope } from './sections';

/** The restriction is over: it expired or ops lifted it early. */
export function restrictionLiftedEmail(p: RestrictionEmailPayload, liftedAt: string): Email {
  const subject = `API access restored for ${p.accountName}`;
  const how =
    p.change === 'expired'
      ? `The temporary restriction on ${describeScope(p)} of ${p.accountName} expired on ${formatInstant(liftedAt)}.`
      : `Our team lifted the temporary restriction on ${describeScope(p)} of ${p.accountName} on ${formatInstant(liftedAt)}.`;
  return renderEmail({
    subject,
    preheader: 'Your API requests are answered normally again.',
    heading: subject,
    blocks: [
      { kind: 'paragraph', text: how },
      { kind: 'paragraph', text: 'Requests are answered normally again, within the limits of your plan.' },
      {
        kind: 'facts',
        rows: [
          ['Reference', p.restrictionId],
          ['Reason code', p.reasonCode],
        ],
      },
      ...contactBlocks(p),
    ],
  });
}
