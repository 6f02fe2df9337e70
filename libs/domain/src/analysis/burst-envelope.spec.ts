import { describe, expect, it } from 'vitest';
import { envelopeAt, isLateNotice, noticePerMinute, noticesOverlapping, type BurstNoticeView } from './burst-envelope';

const HOUR = 3_600_000;
const notice = (overrides: Partial<BurstNoticeView> = {}): BurstNoticeView => ({
  id: 'n1',
  status: 'APPROVED',
  startsAt: 10 * HOUR,
  endsAt: 12 * HOUR,
  expectedPerMinute: 500,
  expectedPerHour: null,
  endpoints: [],
  late: false,
  ...overrides,
});

describe('burst envelopes', () => {
  it('applies an approved notice inside its window, with tolerance', () => {
    expect(envelopeAt(11 * HOUR, [notice()], 0.2)).toEqual({ noticeId: 'n1', perMinute: 600 });
    expect(envelopeAt(12 * HOUR, [notice()], 0.2)).toBeNull();
    expect(envelopeAt(10 * HOUR - 1, [notice()], 0.2)).toBeNull();
  });

  it('ignores pending, rejected and cancelled notices', () => {
    for (const status of ['PENDING', 'REJECTED', 'CANCELLED'] as const) {
      expect(envelopeAt(11 * HOUR, [notice({ status })], 0)).toBeNull();
    }
  });

  it('takes the largest of overlapping notices, and hourly volumes as their average per minute', () => {
    const both = [notice(), notice({ id: 'n2', expectedPerMinute: null, expectedPerHour: 60_000 })];
    expect(envelopeAt(11 * HOUR, both, 0)).toEqual({ noticeId: 'n2', perMinute: 1000 });
    expect(noticePerMinute({ expectedPerMinute: null, expectedPerHour: null })).toBeNull();
    expect(envelopeAt(11 * HOUR, [notice({ expectedPerMinute: null })], 0)).toBeNull();
  });

  it('limits a notice to its endpoints when asked about a route', () => {
    const scoped = [notice({ endpoints: ['POST /v1/import'] })];
    expect(envelopeAt(11 * HOUR, scoped, 0, 'POST /v1/import')).not.toBeNull();
    expect(envelopeAt(11 * HOUR, scoped, 0, 'POST /v1/licenses/validate')).toBeNull();
    expect(envelopeAt(11 * HOUR, scoped, 0)).not.toBeNull();
  });

  it('marks notices given less than 48 hours ahead as late', () => {
    expect(isLateNotice(0, 47 * HOUR, 48)).toBe(true);
    expect(isLateNotice(0, 48 * HOUR, 48)).toBe(false);
  });

  it('lists approved and pending notices overlapping a window', () => {
    const all = [notice(), notice({ id: 'p', status: 'PENDING' }), notice({ id: 'r', status: 'REJECTED' })];
    expect(noticesOverlapping(all, 11 * HOUR, 13 * HOUR).map((n) => n.id)).toEqual(['n1', 'p']);
    expect(noticesOverlapping(all, 12 * HOUR, 13 * HOUR)).toEqual([]);
  });
});
