import { describe, expect, it } from 'vitest';
import { isValidTimeZone, parseZonedTime, zoneOffsetMs } from './zoned-time';

describe('zoned time', () => {
  it('takes timestamps with an offset or Z as they are', () => {
    expect(parseZonedTime('2026-12-01T09:00:00Z', 'Europe/Paris')).toBe(Date.UTC(2026, 11, 1, 9));
    expect(parseZonedTime('2026-12-01T09:00:00+02:00', 'UTC')).toBe(Date.UTC(2026, 11, 1, 7));
  });

  it('reads local times in the stated zone, summer and winter', () => {
    expect(parseZonedTime('2026-12-01T09:00', 'Europe/Paris')).toBe(Date.UTC(2026, 11, 1, 8));
    expect(parseZonedTime('2026-07-01 09:00:00', 'Europe/Paris')).toBe(Date.UTC(2026, 6, 1, 7));
    expect(parseZonedTime('2026-07-01T09:00', 'America/New_York')).toBe(Date.UTC(2026, 6, 1, 13));
    expect(parseZonedTime('2026-07-01T09:00', 'UTC')).toBe(Date.UTC(2026, 6, 1, 9));
  });

  it('rejects what is not a timestamp', () => {
    expect(parseZonedTime('tomorrow', 'UTC')).toBeNull();
    expect(parseZonedTime('2026-13-45T99:00Z', 'UTC')).toBeNull();
  });

  it('knows valid zones and their offsets', () => {
    expect(isValidTimeZone('Asia/Tokyo')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(zoneOffsetMs(Date.UTC(2026, 0, 1), 'Asia/Tokyo')).toBe(9 * 3_600_000);
  });
});
