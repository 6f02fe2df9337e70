import { type Block, type Email, formatInstant, renderEmail } from './layout';
import { type RestrictionEmailPayload } from './notification-payload';
import { contactBlocks, evidenceBlocks } from './sections';

/** Notify-only rung: nothing is restricted yet, but the next offence may be. */
export function warningEmail(p: RestrictionEmailPayload): Email {
  const subject = `Unusual API usage on ${p.accountName}: no action needed yet`;
  const blocks: Block[] = [
    {
      kind: 'paragraph',
      text: `We noticed API usage on ${p.accountName} well above its usual pattern. Nothing has been restricted: your requests are answered normally.`,
    },
    ...(p.reason ? [{ kind: 'paragraph', text: `What we saw: ${p.reason}` } satisfies Block] : []),
    ...evidenceBlocks(p),
    {
      kind: 'callout',
      text: `If usage like this continues, access may be temporarily restricted. This warning counts until ${formatInstant(p.expiresAt)}.`,
    },
    ...contactBlocks(p),
  ];
  return renderEmail({ subject, preheader: 'Nothing is restricted; here is what we saw.', heading: subject, blocks });
}
