import { describe, expect, it } from 'vitest';
import type { LimitWindow } from './policy';
import { currentState, evaluateWindow, type WindowState } from './window-math';

const minute: LimitWindow = { limit: 60, seconds: 60, aligned: false };
const hourAligned: LimitWindow = { limit: 100, seconds: 3600, aligned: true };
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0); // a minute and hour boundary

/** Runs `count` requests at `atMs`, storing admitted state; returns how many were admitted. */
function admit(window: LimitWindow, state: { s?: WindowState }, atMs: number, count: number, cost = 1): number {
  let admitted = 0;
  for (let i = 0; i < count; i++) {
    const v = evaluateWindow(window, state.s, atMs, cost);
    if (v.allowed) {
      state.s = v.next;
      admitted++;
    }
  }
  return admitted;
}

describe('sliding window counter', () => {
  it('admits exactly the limit from an empty state, then denies without consuming', () => {
    const state: { s?: WindowState } = {};
    expect(admit(minute, state, T0 + 1000, 100)).toBe(60);
    expect(state.s).toEqual({ bucket: Math.floor((T0 + 1000) / 60_000), cur: 60, prev: 0 });
    const denied = evaluateWindow(minute, state.s, T0 + 1000, 1);
    expect(denied.allowed).toBe(false);
    expect(denied.remaining).toBe(0);
    expect(denied.next.cur).toBe(60);
  });

  it('counts remaining down and resets to full two buckets later', () => {
    const first = evaluateWindow(minute, undefined, T0 + 10_000, 1);
    expect(first.remaining).toBe(59);
    expect(first.resetAtMs).toBe(T0 + 120_000);
    const empty = evaluateWindow(minute, undefined, T0 + 10_000, 0);
    expect(empty.resetAtMs).toBe(T0 + 10_000);
  });

  it('weights the previous bucket by its overlap with the sliding window', () => {
    const state: { s?: WindowState } = {};
    admit(minute, state, T0 + 59_000, 60); // all 60 at the end of bucket 0
    // 15 s into the next bucket the previous one still weighs 45/60: 45 used, 15 left.
    const v = evaluateWindow(minute, state.s, T0 + 75_000, 0);
    expect(v.used).toBeCloseTo(45, 9);
    expect(v.remaining).toBe(15);
    expect(admit(minute, state, T0 + 75_000, 30)).toBe(15);
  });

  it('computes Retry-After as the moment the request first fits', () => {
    const state: { s?: WindowState } = {};
    admit(minute, state, T0 + 30_000, 60);
    // Denied in bucket 0 at 30 s: in bucket 1 the 60 decay linearly; one unit fits once 1/60 of 60 s has passed.
    const denied = evaluateWindow(minute, state.s, T0 + 30_000, 1);
    expect(denied.retryAfterMs).toBe(30_000 + 1_000);
    const later = evaluateWindow(minute, state.s, T0 + 30_000 + denied.retryAfterMs, 1);
    expect(later.allowed).toBe(true);
    const justBefore = evaluateWindow(minute, state.s, T0 + 30_000 + denied.retryAfterMs - 2, 1);
    expect(justBefore.allowed).toBe(false);
  });

  it('Retry-After inside a bucket when the previous bucket still weighs too much', () => {
    const state: { s?: WindowState } = {};
    admit(minute, state, T0 + 59_000, 60);
    const at = T0 + 60_000; // start of bucket 1: prev=60 weighs fully
    const denied = evaluateWindow(minute, state.s, at, 1);
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBe(1000);
    expect(evaluateWindow(minute, state.s, at + denied.retryAfterMs, 1).allowed).toBe(true);
  });

  it('forgets everything two buckets later', () => {
    const state: { s?: WindowState } = {};
    admit(minute, state, T0, 60);
    expect(admit(minute, state, T0 + 120_000, 100)).toBe(60);
  });

  it('applies a cost per request and rejects a cost above the limit for a whole window', () => {
    const state: { s?: WindowState } = {};
    expect(admit(minute, state, T0, 10, 7)).toBe(8); // 56 of 60
    const tooBig = evaluateWindow(minute, undefined, T0, 61);
    expect(tooBig.allowed).toBe(false);
    expect(tooBig.retryAfterMs).toBe(60_000);
  });

  it('a lowered limit takes effect at once on the same stored state; a raised one frees room', () => {
    const state: { s?: WindowState } = {};
    admit(minute, state, T0 + 1000, 40);
    expect(evaluateWindow({ ...minute, limit: 30 }, state.s, T0 + 1000, 1)).toMatchObject({
      allowed: false,
      remaining: 0,
    });
    expect(evaluateWindow({ ...minute, limit: 100 }, state.s, T0 + 1000, 1)).toMatchObject({
      allowed: true,
      remaining: 59,
    });
  });

  it('never lets a skewed clock behind the stored bucket reset the count', () => {
    const state: { s?: WindowState } = {};
    admit(minute, state, T0 + 61_000, 60); // an edge whose clock is ahead wrote bucket 1
    const behind = evaluateWindow(minute, state.s, T0 + 59_000, 1); // this one still thinks it is bucket 0
    expect(behind.allowed).toBe(false);
    expect(currentState(minute, state.s, T0 + 59_000)).toEqual(state.s);
  });

  it('a window whose limit is 0 denies everything', () => {
    expect(evaluateWindow({ ...minute, limit: 0 }, undefined, T0, 1).allowed).toBe(false);
  });
});

describe('calendar-aligned fixed window', () => {
  it('resets at the top of the hour UTC whatever the traffic', () => {
    const state: { s?: WindowState } = {};
    expect(admit(hourAligned, state, T0 + 59 * 60_000, 150)).toBe(100);
    const denied = evaluateWindow(hourAligned, state.s, T0 + 59 * 60_000, 1);
    expect(denied.resetAtMs).toBe(T0 + 3_600_000);
    expect(denied.retryAfterMs).toBe(60_000);
    // One millisecond after the top of the hour: a full 100 again (no carry-over, unlike the sliding window).
    expect(admit(hourAligned, state, T0 + 3_600_000, 150)).toBe(100);
  });

  it('the last millisecond of the hour still belongs to it', () => {
    const state: { s?: WindowState } = {};
    admit(hourAligned, state, T0 + 3_599_999, 100);
    expect(evaluateWindow(hourAligned, state.s, T0 + 3_599_999, 1).allowed).toBe(false);
    expect(evaluateWindow(hourAligned, state.s, T0 + 3_600_000, 1).allowed).toBe(true);
  });

  it('reports Klinky-style remaining counts', () => {
    const state: { s?: WindowState } = {};
    admit(hourAligned, state, T0 + 15 * 60_000, 20);
    const v = evaluateWindow(hourAligned, state.s, T0 + 15 * 60_000, 0);
    expect(v.remaining).toBe(80);
    expect(v.resetAtMs).toBe(T0 + 3_600_000);
  });
});

describe('no over-admission in any sliding minute (randomised)', () => {
  it('a uniform stream never sees more than the limit inside a fixed bucket', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const state: { s?: WindowState } = {};
    const perBucket = new Map<number, number>();
    let t = T0;
    for (let i = 0; i < 20_000; i++) {
      t += Math.floor(rnd() * 400);
      if (evaluateWindow(minute, state.s, t, 1).allowed) {
        state.s = evaluateWindow(minute, state.s, t, 1).next;
        const b = Math.floor(t / 60_000);
        perBucket.set(b, (perBucket.get(b) ?? 0) + 1);
      }
    }
    expect(Math.max(...perBucket.values())).toBeLessThanOrEqual(60);
  });
});
