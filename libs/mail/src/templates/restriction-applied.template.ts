import { type Block, type Email, formatDuration, formatInstant, renderEmail } from './layout';
import { type RestrictionEmailPayload } from './notification-payload';
import { contactBlocks, describeEffect, describeScope, evidenceBlocks } from './sections';

/**
 * A restriction is in force (or was extended, or changed): what, why, until when, and how to announce a burst or
 * dispute.
 */
export function restrictionAppliedEmail(p: RestrictionEmailPayload): Email {
  const until = formatInstant(p.expiresAt);
  const subject =
    p.change === 'extended'
      ? `API access restriction extended until ${until}`
      : p.change === 'changed'
        ? `API access restriction changed for ${p.accountName} until ${until}`
        : `API access restricted for ${p.accountName} until ${until}`;
  const opening =
    p.change === 'extended'
      ? `The temporary restriction on ${describeScope(p)} of ${p.accountName} has been extended.`
      : p.change === 'changed'
        ? `The temporary restriction on ${describeScope(p)} of ${p.accountName} has changed. This replaces the restriction we told you about before; it is not an additional one.`
        : `We have temporarily restricted ${describeScope(p)} of ${p.accountName} to protect the stability of the API for all customers.`;
  const before = p.change === 'changed' && p.previous ? { ...p, ...p.previous } : null;
  const blocks: Block[] = [
    { kind: 'paragraph', text: opening },
    {
      kind: 'facts',
      rows: [
        ...(before
          ? [['Until now', `${describeEffect(before)}, until ${formatInstant(before.expiresAt)}`] as [string, string]]
          : []),
        ['Restriction', describeEffect(p)],
        ['Applies to', describeScope(p)],
        ['From', formatInstant(p.startsAt)],
        ['Until', `${until} (${formatDuration(p.startsAt, p.expiresAt)})`],
        ['Reason code', p.reasonCode],
        ['Reference', p.restrictionId],
      ],
    },
    ...(p.reason ? [{ kind: 'paragraph', text: `Why: ${p.reason}` } satisfies Block] : []),
    ...evidenceBlocks(p),
    {
      kind: 'callout',
      text: 'The restriction ends by itself at the time above; you do not need to do anything for it to be lifted. Retry with exponential backoff and honour the Retry-After header.',
    },
    ...contactBlocks(p),
  ];
  return renderEmail({ subject, preheader: `${describeEffect(p)} until ${until}.`, heading: subject, blocks });
}
