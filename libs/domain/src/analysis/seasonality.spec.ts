import { describe, expect, it } from 'vitest';
import { HOUR_MS, hourOfWeek, isWeekend, sampleHours, startOfHour, startOfMinute } from './seasonality';

describe('seasonal slots', () => {
  it('numbers hours of the week from Monday 00:00 UTC', () => {
    expect(hourOfWeek(Date.UTC(2026, 10, 23, 0, 30))).toBe(0); // a Monday
    expect(hourOfWeek(Date.UTC(2026, 10, 29, 23, 59))).toBe(167); // the Sunday after
    expect(hourOfWeek(new Date(Date.UTC(2026, 10, 25, 13)))).toBe(2 * 24 + 13);
  });

  it('truncates to the hour and the minute', () => {
    expect(startOfHour(Date.UTC(2026, 0, 1, 5, 59, 59))).toBe(Date.UTC(2026, 0, 1, 5));
    expect(startOfMinute(Date.UTC(2026, 0, 1, 5, 59, 59, 999))).toBe(Date.UTC(2026, 0, 1, 5, 59));
  });

  it('tells weekends apart', () => {
    expect(isWeekend(Date.UTC(2026, 10, 28))).toBe(true);
    expect(isWeekend(Date.UTC(2026, 10, 29))).toBe(true);
    expect(isWeekend(Date.UTC(2026, 10, 30))).toBe(false);
  });

  it('trains a weekday hour on the same hour of past weeks and past weekdays only', () => {
    const wednesdayNoon = Date.UTC(2026, 10, 25, 12, 17);
    const samples = sampleHours(wednesdayNoon, 4, 6);
    const weekly = samples.filter((s) => s.source === 'week').map((s) => s.hour);
    expect(weekly).toEqual([1, 2, 3, 4].map((w) => Date.UTC(2026, 10, 25, 12) - w * 7 * 24 * HOUR_MS));
    const daily = samples.filter((s) => s.source === 'day').map((s) => new Date(s.hour).getUTCDate());
    expect(daily).toEqual([24, 23, 20, 19]); // Tue, Mon, Fri, Thu: the weekend is skipped
  });

  it('trains a weekend hour on past weekend days', () => {
    const sundayNight = Date.UTC(2026, 10, 29, 22);
    const daily = sampleHours(sundayNight, 2, 6)
      .filter((s) => s.source === 'day')
      .map((s) => new Date(s.hour).getUTCDate());
    expect(daily).toEqual([28]);
  });

  it('never duplicates a weekly sample among the daily ones', () => {
    const hours = sampleHours(Date.UTC(2026, 10, 25, 12), 4, 13).map((s) => s.hour);
    expect(new Set(hours).size).toBe(hours.length);
  });
});
