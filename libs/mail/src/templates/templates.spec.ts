import { describe, expect, it } from 'vitest';
import { renderNotification, type RestrictionEmailPayload } from './index';
import { escapeHtml, formatInstant } from './layout';

const payload = (over: Partial<RestrictionEmailPayload> = {}): RestrictionEmailPayload => ({
  accountName: 'Acme <Corp> & Sons',
  restrictionId: 'r-123',
  mode: 'block',
  scope: 'account',
  scopeValue: null,
  throttleFactor: null,
  statusCode: 503,
  reasonCode: 'sustained_excess',
  reason: 'Sustained 9× the usual rate',
  evidence: {
    kind: 'SUSTAINED_EXCESS',
    severity: 'HIGH',
    summary: 'Sustained 9.4× the usual request rate for 45 minutes',
    firstSeenAt: '2026-11-24T10:00:00.000Z',
    lastSeenAt: '2026-11-24T10:45:00.000Z',
    details: ['Busiest endpoints: GET /v1/contacts (48211 requests)'],
  },
  startsAt: '2026-11-24T11:00:00.000Z',
  expiresAt: '2026-11-24T12:00:00.000Z',
  change: 'applied',
  supportEmail: 'support@provider.test',
  burstNoticeUrl: null,
  ...over,
});

describe('customer email templates', () => {
  it('applied: what, why (evidence), until when, how to announce a burst or dispute — in HTML and text', () => {
    const email = renderNotification('RESTRICTION_APPLIED', payload(), '2026-11-24T11:00:00.000Z');
    expect(email.subject).toBe(
      'API access restricted for Acme <Corp> & Sons until Tuesday, 24 November 2026, 12:00 UTC',
    );
    for (const body of [email.html, email.text]) {
      expect(body).toContain('Requests are refused with HTTP 503');
      expect(body).toContain('Sustained 9.4× the usual request rate for 45 minutes');
      expect(body).toContain('GET /v1/contacts (48211 requests)');
      expect(body).toContain('(60 minutes)');
      expect(body).toContain('48 hours');
      expect(body).toContain('support@provider.test');
      expect(body).toContain('r-123');
    }
    expect(email.html).toContain('Acme &lt;Corp&gt; &amp; Sons');
    expect(email.html).not.toContain('<Corp>');
    expect(email.html).toMatch(/^<!doctype html>/);
    expect(email.text).not.toMatch(/<[a-z]/);
  });

  it('describes a throttle and a narrower scope', () => {
    const email = renderNotification(
      'RESTRICTION_APPLIED',
      payload({ mode: 'throttle', throttleFactor: 0.25, statusCode: 429, scope: 'token', scopeValue: 'tok_1' }),
      '2026-11-24T11:00:00.000Z',
    );
    expect(email.text).toContain('Rate limits reduced to 25% of your plan (HTTP 429 above them)');
    expect(email.text).toContain('API access with token tok_1');
  });

  it('extended, lifted, expired and warning read differently', () => {
    const at = '2026-11-24T11:30:00.000Z';
    expect(renderNotification('RESTRICTION_APPLIED', payload({ change: 'extended' }), at).subject).toMatch(
      /^API access restriction extended until/,
    );
    const changed = renderNotification(
      'RESTRICTION_APPLIED',
      payload({
        change: 'changed',
        previous: { mode: 'throttle', throttleFactor: 0.5, statusCode: 429, expiresAt: '2026-11-24T11:45:00.000Z' },
      }),
      at,
    );
    expect(changed.subject).toBe(
      'API access restriction changed for Acme <Corp> & Sons until Tuesday, 24 November 2026, 12:00 UTC',
    );
    for (const body of [changed.html, changed.text]) {
      expect(body).toContain('not an additional one');
      expect(body).toContain(
        'Rate limits reduced to 50% of your plan (HTTP 429 above them), until Tuesday, 24 November 2026, 11:45 UTC',
      );
      expect(body).toContain('Requests are refused with HTTP 503');
    }
    const lifted = renderNotification('RESTRICTION_LIFTED', payload({ change: 'lifted' }), at);
    expect(lifted.subject).toBe('API access restored for Acme <Corp> & Sons');
    expect(lifted.text).toContain('Our team lifted the temporary restriction');
    expect(lifted.text).toContain('11:30 UTC');
    const expired = renderNotification('RESTRICTION_LIFTED', payload({ change: 'expired' }), at);
    expect(expired.text).toContain('expired on Tuesday, 24 November 2026, 11:30 UTC');
    const warning = renderNotification('WARNING', payload({ mode: 'notify' }), at);
    expect(warning.subject).toMatch(/^Unusual API usage/);
    expect(warning.text).toContain('Nothing has been restricted');
  });

  it('without a support address it asks for a reply, and offers the burst page when there is one', () => {
    const email = renderNotification(
      'RESTRICTION_APPLIED',
      payload({ supportEmail: null, burstNoticeUrl: 'https://provider.test/bursts' }),
      '2026-11-24T11:00:00.000Z',
    );
    expect(email.text).toContain('use https://provider.test/bursts or reply to this email');
    expect(email.text).toContain('Reply to this email and quote the reference');
  });

  it('renders the same payload identically on every attempt', () => {
    const a = renderNotification('RESTRICTION_APPLIED', payload(), '2026-11-24T11:00:00.000Z');
    const b = renderNotification('RESTRICTION_APPLIED', payload(), '2026-11-24T11:00:00.000Z');
    expect(a).toEqual(b);
  });

  it('escapes every HTML special character and formats instants in UTC', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(formatInstant('2026-01-02T03:04:00Z')).toBe('Friday, 2 January 2026, 03:04 UTC');
  });
});
