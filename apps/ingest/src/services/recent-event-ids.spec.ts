import { describe, expect, it } from 'vitest';
import { eventSecond, Known, RecentEventIds } from './recent-event-ids';

describe('RecentEventIds', () => {
  it('tells inserted from loaded ids, within the second they were stored under', () => {
    const index = new RecentEventIds(1_000, 100);
    index.claim('a', 1_000);
    index.addLoaded('b', 1_001);
    expect(index.lookup('a', 1_000)).toBe(Known.Inserted);
    expect(index.lookup('b', 1_001)).toBe(Known.Loaded);
    expect(index.lookup('c', 1_000)).toBe(Known.No);
    // A copy carries its original's time: the same id at another second is another event as far as the index goes.
    expect(index.lookup('a', 1_001)).toBe(Known.No);
    expect(index.size).toBe(2);
  });

  it('covers its horizon onwards, the future included, and ignores what is older', () => {
    const index = new RecentEventIds(1_000, 100);
    expect(index.covers(999)).toBe(false);
    expect(index.covers(1_000)).toBe(true);
    expect(index.covers(9_999_999_999)).toBe(true);
    index.addLoaded('old', 999);
    expect(index.size).toBe(0);
  });

  it('counts an id added twice once, and keeps an id it loaded as loaded', () => {
    const index = new RecentEventIds(0, 100);
    index.addLoaded('a', 5);
    index.claim('a', 5);
    index.claim('b', 5);
    index.addLoaded('b', 5);
    expect(index.size).toBe(2);
    expect(index.lookup('a', 5)).toBe(Known.Loaded);
  });

  it('claims an id: says what it knew, and holds it as inserted from then on', () => {
    const index = new RecentEventIds(0, 100);
    index.addLoaded('l', 5);
    expect(index.claim('a', 5)).toBe(Known.No);
    expect(index.claim('a', 5)).toBe(Known.Inserted);
    expect(index.claim('l', 5)).toBe(Known.Loaded);
    expect(index.lookup('a', 5)).toBe(Known.Inserted);
    expect(index.size).toBe(2);
  });

  it('drops whole oldest seconds past its bound and moves its horizon past them', () => {
    const index = new RecentEventIds(0, 10);
    for (let second = 100; second < 104; second++) {
      for (let i = 0; i < 3; i++) index.claim(`${second}-${i}`, second);
    }
    expect(index.size).toBe(12);
    index.trim(); // down to at most 9: second 100 goes
    expect(index.size).toBe(9);
    expect(index.from).toBe(101);
    expect(index.covers(100)).toBe(false);
    expect(index.lookup('101-0', 101)).toBe(Known.Inserted);
    index.claim('104-0', 104);
    index.claim('104-1', 104);
    index.trim(); // 11: second 101 goes
    expect(index.size).toBe(8);
    expect(index.from).toBe(102);
    index.trim();
    expect(index.size).toBe(8); // within bounds: nothing more goes
  });

  it('reads event times of any accepted spelling to the same second', () => {
    expect(eventSecond('2026-11-24T12:00:01.999Z')).toBe(Date.UTC(2026, 10, 24, 12, 0, 1) / 1_000);
    // The same second again (remembered), then times that share its first 19 characters but are not UTC.
    expect(eventSecond('2026-11-24T12:00:01.000Z')).toBe(Date.UTC(2026, 10, 24, 12, 0, 1) / 1_000);
    expect(eventSecond('2026-11-24T12:00:01Z')).toBe(Date.UTC(2026, 10, 24, 12, 0, 1) / 1_000);
    expect(eventSecond('2026-11-24T12:00:01+01:00')).toBe(Date.UTC(2026, 10, 24, 11, 0, 1) / 1_000);
    expect(eventSecond('2026-11-24T12:00:01.5-02:00')).toBe(Date.UTC(2026, 10, 24, 14, 0, 1) / 1_000);
    expect(eventSecond('2026-11-24T12:00:02.000Z')).toBe(Date.UTC(2026, 10, 24, 12, 0, 2) / 1_000);
    expect(eventSecond('2026-11-24T13:00:01+01:00')).toBe(Date.UTC(2026, 10, 24, 12, 0, 1) / 1_000);
    expect(eventSecond('1969-12-31T23:59:59.500Z')).toBe(-1);
  });
});
