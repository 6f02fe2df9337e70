/** What the index knows of an event id. */
export const Known = {
  /** Not in the index: within its horizon, that means not stored. */
  No: 0,
  /** Claimed by this consumer's flush, which stored it (raw rows and rollups), or the index was dropped. */
  Inserted: 1,
  /** Found in ClickHouse when the index was loaded: stored, but perhaps by an insert a crash cut short. */
  Loaded: 2,
} as const;
export type Known = (typeof Known)[keyof typeof Known];

let memoPrefix = '';
let memoSecond = 0;

/**
 * The epoch second of an event time; UTC `…Z` times of any precision and offsets alike. Consecutive events mostly
 * share their second: a `YYYY-MM-DDTHH:MM:SS…Z` time whose first 19 characters are the previous one's costs a
 * comparison instead of a parse.
 */
export function eventSecond(ts: string): number {
  const utc = ts.length >= 20 && ts.charCodeAt(ts.length - 1) === 90 && ts.charCodeAt(19) !== 43;
  if (utc && memoPrefix.length === 19 && ts.startsWith(memoPrefix)) return memoSecond;
  const second = Math.floor(Date.parse(ts) / 1_000);
  if (utc && ts.charCodeAt(10) === 84) {
    memoPrefix = ts.slice(0, 19);
    memoSecond = second;
  }
  return second;
}

/**
 * The ingest consumer's memory of which events are stored, by event time, so a flush asks ClickHouse only about
 * events older than what it remembers. Invariant: every event stored in request_logs whose time is at or after
 * `horizon` (epoch seconds) is in the index. The consumer loads it from ClickHouse when it gets its partitions
 * (everything since a window before now, `load`), has each flush claim the events it is about to store (`claim`),
 * and drops it on a failed flush or a rebalance, when the invariant can no longer be vouched for. A duplicate carries its original's
 * time (the same event sent again), so an event at or after the horizon that the index lacks is new.
 *
 * Bounded: past `maxIds`, the oldest seconds are dropped and the horizon moves up past them (their events fall back
 * to ClickHouse lookups). Seconds are kept in a Map of Sets: eviction removes whole seconds.
 */
export class RecentEventIds {
  /** Per event second: the ids stored by this consumer, and those loaded from ClickHouse (only after a load). */
  private readonly seconds = new Map<number, { inserted: Set<string>; loaded?: Set<string> }>();
  private count = 0;

  /** @param horizon first epoch second the index is complete for */
  constructor(
    private horizon: number,
    private readonly maxIds: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** First epoch second whose stored events are all in the index. */
  get from(): number {
    return this.horizon;
  }

  covers(second: number): boolean {
    return second >= this.horizon;
  }

  /** Only meaningful where covers(second). */
  lookup(id: string, second: number): Known {
    const ids = this.seconds.get(second);
    if (ids?.loaded?.has(id)) return Known.Loaded;
    return ids?.inserted.has(id) ? Known.Inserted : Known.No;
  }

  /**
   * What the index knew of this id, and from now on it holds it as inserted (one hash lookup where the id is new, the
   * common case). For a flush about to store it: should the flush fail, the whole index must be dropped.
   */
  claim(id: string, second: number): Known {
    let ids = this.seconds.get(second);
    if (!ids) this.seconds.set(second, (ids = { inserted: new Set<string>() }));
    if (ids.loaded?.has(id)) return Known.Loaded;
    const size = ids.inserted.size;
    ids.inserted.add(id);
    if (ids.inserted.size === size) return Known.Inserted;
    this.count++;
    return Known.No;
  }

  /** An id found stored in ClickHouse when the index is loaded (ignored below the horizon). */
  addLoaded(id: string, second: number): void {
    if (second < this.horizon) return;
    let ids = this.seconds.get(second);
    if (!ids) this.seconds.set(second, (ids = { inserted: new Set<string>() }));
    const loaded = (ids.loaded ??= new Set<string>());
    if (loaded.has(id)) return;
    loaded.add(id);
    if (!ids.inserted.has(id)) this.count++;
  }

  /** Drops the oldest seconds until at most 90 % of maxIds remain (so a full index does not evict every flush). */
  trim(): void {
    if (this.count <= this.maxIds) return;
    const target = Math.floor(this.maxIds * 0.9);
    const oldestFirst = [...this.seconds.keys()].sort((a, b) => a - b);
    for (const second of oldestFirst) {
      if (this.count <= target) break;
      const { inserted, loaded } = this.seconds.get(second)!;
      let n = inserted.size;
      if (loaded) for (const id of loaded) if (!inserted.has(id)) n++;
      this.count -= n;
      this.seconds.delete(second);
      this.horizon = second + 1;
    }
  }
}
