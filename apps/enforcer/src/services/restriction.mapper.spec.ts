import { describe, expect, it } from 'vitest';
import { restrictionRecordSchema } from '@usageguard/contracts';
import { type Flag, type Restriction } from '@usageguard/database';
import { summarizeEvidence } from './outbox.writer';
import { isEdgeRestriction, summarize, toRecord } from './restriction.mapper';

const restriction = (over: Partial<Restriction> = {}): Restriction => ({
  id: 'r-1',
  accountId: 'a-1',
  flagId: null,
  scope: 'ACCOUNT',
  scopeValue: null,
  mode: 'BLOCK',
  throttleFactor: null,
  statusCode: 503,
  reasonCode: 'sustained_excess',
  reason: 'x'.repeat(600),
  level: 2,
  status: 'ACTIVE',
  startsAt: new Date('2026-11-24T10:00:00Z'),
  expiresAt: new Date('2026-11-24T11:00:00Z'),
  createdByType: 'SYSTEM',
  createdBy: 'enforcer',
  liftedAt: null,
  liftedBy: null,
  version: 3,
  createdAt: new Date('2026-11-24T10:00:00Z'),
  updatedAt: new Date('2026-11-24T10:00:00Z'),
  ...over,
});

describe('restriction → Redis record (the contract)', () => {
  it('maps a block to a record the contract accepts, the reason cut to its limit', () => {
    const record = toRecord(restriction());
    expect(restrictionRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      scope: 'account',
      scopeValue: null,
      mode: 'block',
      throttleFactor: null,
      statusCode: 503,
      expiresAt: Date.parse('2026-11-24T11:00:00Z'),
      version: 3,
    });
    expect(record.reason).toHaveLength(500);
  });

  it('maps a throttle on a token with its factor; a stray scope value on the account scope is dropped', () => {
    expect(
      toRecord(restriction({ mode: 'THROTTLE', throttleFactor: 0.25, scope: 'TOKEN', scopeValue: 't-1' })),
    ).toMatchObject({ mode: 'throttle', throttleFactor: 0.25, scope: 'token', scopeValue: 't-1' });
    expect(toRecord(restriction({ scopeValue: 'ignored' })).scopeValue).toBeNull();
  });

  it('falls back to 429 for a status the contract does not know, and refuses notify-only', () => {
    expect(toRecord(restriction({ statusCode: 418 })).statusCode).toBe(429);
    expect(() => toRecord(restriction({ mode: 'NOTIFY' }))).toThrow(/notify-only/);
    expect(isEdgeRestriction({ mode: 'NOTIFY' })).toBe(false);
    expect(isEdgeRestriction({ mode: 'THROTTLE' })).toBe(true);
  });

  it('summarizes a restriction for the dashboard', () => {
    expect(summarize('applied', restriction(), 'written')).toEqual({
      outcome: 'applied',
      restrictionId: 'r-1',
      accountId: 'a-1',
      status: 'ACTIVE',
      mode: 'BLOCK',
      level: 2,
      version: 3,
      expiresAt: '2026-11-24T11:00:00.000Z',
      edge: 'written',
    });
    expect(summarize('skipped', null, 'none', 'why')).toMatchObject({ restrictionId: null, note: 'why' });
  });
});

describe('evidence for the customer', () => {
  const flag = (evidence: unknown, summary = 'Sustained 9× the usual rate'): Flag =>
    ({
      id: 'f-1',
      kind: 'SUSTAINED_EXCESS',
      severity: 'HIGH',
      summary,
      evidence,
      firstSeenAt: new Date('2026-11-24T09:00:00Z'),
      lastSeenAt: new Date('2026-11-24T10:00:00Z'),
    }) as Flag;

  it("takes the analyzer's top routes and addresses, never token ids", () => {
    const summary = summarizeEvidence(
      flag({
        top: {
          routes: [
            { value: 'GET /v1/a', requests: 10 },
            { value: 'POST /v1/b', requests: 5 },
          ],
          tokens: [{ value: 'secret-token-id', requests: 10 }],
          ips: [{ value: '203.0.113.9', requests: 15 }],
        },
      }),
    );
    expect(summary.details).toEqual([
      'Busiest endpoints: GET /v1/a (10 requests), POST /v1/b (5 requests)',
      'Busiest client addresses: 203.0.113.9 (15 requests)',
    ]);
    expect(JSON.stringify(summary)).not.toContain('secret-token-id');
  });

  it('copes with empty or unexpected evidence', () => {
    expect(summarizeEvidence(flag({})).details).toEqual([]);
    expect(summarizeEvidence(flag({ top: { routes: 'nope', ips: [null, 3] } })).details).toEqual([]);
    expect(summarizeEvidence(flag({ summary: 'from evidence' }, '')).summary).toBe('from evidence');
  });
});
