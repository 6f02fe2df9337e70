import { type Block, formatInstant } from './layout';
import { type RestrictionEmailPayload } from './notification-payload';

export function describeScope(p: RestrictionEmailPayload): string {
  switch (p.scope) {
    case 'account':
      return 'API access';
    case 'token':
      return `API access with token ${p.scopeValue ?? ''}`.trim();
    case 'ip':
      return `API access from ${p.scopeValue ?? 'one address'}`;
    case 'route':
      return `API access to ${p.scopeValue ?? 'one endpoint'}`;
  }
}

export function describeEffect(p: RestrictionEmailPayload): string {
  switch (p.mode) {
    case 'block':
      return `Requests are refused with HTTP ${p.statusCode}`;
    case 'throttle':
      return `Rate limits reduced to ${Math.round((p.throttleFactor ?? 1) * 100)}% of your plan (HTTP ${p.statusCode} above them)`;
    case 'notify':
      return 'No restriction (warning only)';
  }
}

export function evidenceBlocks(p: RestrictionEmailPayload): Block[] {
  if (!p.evidence) return [];
  const e = p.evidence;
  return [
    {
      kind: 'list',
      title: 'What we observed',
      items: [
        e.summary || `${e.kind} (${e.severity})`,
        `Between ${formatInstant(e.firstSeenAt)} and ${formatInstant(e.lastSeenAt)}`,
        ...e.details,
      ],
    },
  ];
}

/** Seed 000: announce planned bursts ahead (volume, duration, window with time zone, endpoints, context; 48 h). */
export function contactBlocks(p: RestrictionEmailPayload): Block[] {
  const where = p.supportEmail ? `write to ${p.supportEmail}` : 'reply to this email';
  return [
    {
      kind: 'list',
      title: 'Planning a burst?',
      items: [
        `Announce it at least 48 hours ahead: ${p.burstNoticeUrl ? `use ${p.burstNoticeUrl} or ` : ''}${where} with the expected volume (requests per minute or hour), the duration, the time window with its time zone, the endpoints concerned, and a short business context.`,
      ],
    },
    {
      kind: 'paragraph',
      text: `Think this is a mistake? ${where[0].toUpperCase()}${where.slice(1)} and quote the reference above; our team reviews every dispute.`,
    },
  ];
}
