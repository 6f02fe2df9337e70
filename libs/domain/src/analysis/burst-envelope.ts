/**
 * Announced bursts (seed 000). Inside an approved notice's window and envelope nothing flags; beyond it the usual
 * band applies again and the notice travels with the flag as evidence.
 */
export interface BurstNoticeView {
  id: string;
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'CANCELLED';
  startsAt: number;
  endsAt: number;
  expectedPerMinute: number | null;
  expectedPerHour: number | null;
  /** Route templates the burst concerns; empty means every route. */
  endpoints: readonly string[];
  late: boolean;
}

export interface Envelope {
  noticeId: string;
  /** Requests per minute allowed by the notice, tolerance included. */
  perMinute: number;
}

/**
 * The envelope in force at a minute: the largest of the approved notices covering it. A notice that states only an
 * hourly volume allows its hourly average per minute (the per-minute series cannot see how an hour was spent).
 */
export function envelopeAt(
  minute: number,
  notices: readonly BurstNoticeView[],
  tolerance: number,
  route?: string,
): Envelope | null {
  let best: Envelope | null = null;
  for (const notice of notices) {
    if (notice.status !== 'APPROVED' || minute < notice.startsAt || minute >= notice.endsAt) continue;
    if (route !== undefined && notice.endpoints.length > 0 && !notice.endpoints.includes(route)) continue;
    const perMinute = noticePerMinute(notice);
    if (perMinute === null) continue;
    const allowed = perMinute * (1 + tolerance);
    if (!best || allowed > best.perMinute) best = { noticeId: notice.id, perMinute: allowed };
  }
  return best;
}

export function noticePerMinute(notice: Pick<BurstNoticeView, 'expectedPerMinute' | 'expectedPerHour'>): number | null {
  if (notice.expectedPerMinute !== null) return notice.expectedPerMinute;
  if (notice.expectedPerHour !== null) return notice.expectedPerHour / 60;
  return null;
}

/** Notices given less than `noticeHours` before the window opens are accepted and marked late. */
export function isLateNotice(submittedAt: number, startsAt: number, noticeHours: number): boolean {
  return startsAt - submittedAt < noticeHours * 3_600_000;
}

/** Notices worth attaching to a flag over [from, to): approved or pending, overlapping the window. */
export function noticesOverlapping(notices: readonly BurstNoticeView[], from: number, to: number): BurstNoticeView[] {
  return notices.filter(
    (n) => (n.status === 'APPROVED' || n.status === 'PENDING') && n.startsAt < to && n.endsAt > from,
  );
}
