import type { LimitWindow } from './policy';

/**
 * The counting algorithm, as pure functions (the Lua script in libs/redis decides with the same estimate, and the
 * edge derives remaining, reset and Retry-After from the state it returns with these functions; the local
 * budget used while Redis is down runs these directly). docs/limiter.md explains the choice.
 *
 * Sliding windows use a sliding-window counter: two adjacent fixed buckets of the window's length, the previous one
 * weighted by how much of it still overlaps the sliding window. Aligned windows are fixed windows on UTC calendar
 * boundaries (epoch multiples of the length: the top of the hour, midnight UTC), exactly what Klinky documents.
 *
 * Stored state is counts, never limits, so a limit change takes effect on the next request and cannot corrupt it.
 */
export interface WindowState {
  /** Index of the current bucket: floor(epoch ms / window ms). */
  bucket: number;
  cur: number;
  prev: number;
}

export interface WindowVerdict {
  allowed: boolean;
  /** Usage before this request, as the algorithm estimates it. */
  used: number;
  /** What is left after this request (or now, when denied): floor, never negative. */
  remaining: number;
  /** When the window is back to its full limit, epoch ms. */
  resetAtMs: number;
  /** When a denied request of this cost would first be admitted, in ms from now (0 when allowed). */
  retryAfterMs: number;
  /** The state to store when the request is admitted. */
  next: WindowState;
}

/** Reads stored state as of `nowMs`: rolls buckets forward; a clock behind the stored bucket keeps the newer state. */
export function currentState(window: LimitWindow, stored: WindowState | undefined, nowMs: number): WindowState {
  const bucket = Math.floor(nowMs / (window.seconds * 1000));
  if (!stored) return { bucket, cur: 0, prev: 0 };
  if (stored.bucket === bucket) return stored;
  if (stored.bucket === bucket - 1) return { bucket, cur: 0, prev: stored.cur };
  if (stored.bucket > bucket) return stored;
  return { bucket, cur: 0, prev: 0 };
}

export function evaluateWindow(
  window: LimitWindow,
  stored: WindowState | undefined,
  nowMs: number,
  cost: number,
): WindowVerdict {
  const T = window.seconds * 1000;
  const state = currentState(window, stored, nowMs);
  const start = state.bucket * T;
  const elapsed = Math.min(Math.max(nowMs - start, 0), T);
  const used = window.aligned ? state.cur : (state.prev * (T - elapsed)) / T + state.cur;
  const allowed = used + cost <= window.limit;
  const after = allowed ? used + cost : used;
  const cur = allowed ? state.cur + cost : state.cur;
  return {
    allowed,
    used,
    remaining: Math.max(0, Math.floor(window.limit - after + 1e-9)),
    resetAtMs: resetAt(window, state.bucket, cur, state.prev, nowMs),
    retryAfterMs: allowed ? 0 : retryAfter(window, state, elapsed, cost),
    next: { bucket: state.bucket, cur, prev: state.prev },
  };
}

function resetAt(window: LimitWindow, bucket: number, cur: number, prev: number, nowMs: number): number {
  const T = window.seconds * 1000;
  if (window.aligned) return (bucket + 1) * T;
  if (cur > 0) return (bucket + 2) * T;
  if (prev > 0) return (bucket + 1) * T;
  return nowMs;
}

function retryAfter(window: LimitWindow, state: WindowState, elapsed: number, cost: number): number {
  const T = window.seconds * 1000;
  const { limit } = window;
  if (cost > limit) return T; // never admissible: tell the client to come back after a whole window
  const toNextBucket = T - elapsed;
  if (window.aligned) return toNextBucket;
  if (state.cur + cost <= limit) {
    // Within this bucket, once the previous bucket's weight has decayed enough.
    const wait = T - elapsed - ((limit - state.cur - cost) * T) / state.prev;
    return Math.max(1, Math.ceil(wait));
  }
  // In the next bucket this bucket becomes the previous one and decays from its start.
  const intoNext = state.cur > 0 ? Math.max(0, T - ((limit - cost) * T) / state.cur) : 0;
  return Math.max(1, Math.ceil(toNextBucket + intoNext));
}
