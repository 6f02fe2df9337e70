/**
 * Seasonal slots: one per hour of the week, in UTC. A customer's daily and weekly rhythm repeats in UTC as well
 * as in its own zone (only the slot numbers shift); DST moves a slot by an hour twice a year, which the band's
 * width absorbs.
 */
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

export function startOfHour(at: Date | number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export function startOfMinute(at: Date | number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/** 0 = Monday 00:00 UTC … 167 = Sunday 23:00 UTC. */
export function hourOfWeek(at: Date | number): number {
  const d = new Date(startOfHour(at));
  return ((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours();
}

export function isWeekend(at: Date | number): boolean {
  const day = new Date(typeof at === 'number' ? at : at.getTime()).getUTCDay();
  return day === 0 || day === 6;
}

export interface SampleHour {
  /** Start of the sampled hour (ms). */
  hour: number;
  source: 'week' | 'day';
}

/**
 * The past hours that train the slot of `hour`: the same hour of the week in each trailing week, and the same hour
 * of the day on the trailing days of the same kind (weekday or weekend), so a daily peak lines up with past peaks
 * and a weekend lull with past weekends.
 */
export function sampleHours(hour: number, weeks: number, days: number): SampleHour[] {
  const start = startOfHour(hour);
  const samples: SampleHour[] = [];
  for (let w = 1; w <= weeks; w++) samples.push({ hour: start - w * WEEK_MS, source: 'week' });
  const weekend = isWeekend(start);
  for (let d = 1; d <= days; d++) {
    const candidate = start - d * DAY_MS;
    if (d % 7 === 0) continue; // already a weekly sample
    if (isWeekend(candidate) === weekend) samples.push({ hour: candidate, source: 'day' });
  }
  return samples;
}
