/** What the index knows of an event id. */
export const Known = {
  /** Not in the index: within its horizon, that means not stored. */
  No: 0,
  /** Stored by this consumer's own completed flush (raw rows and rollups). */
  Inserted: 1,
  /** Found in ClickHouse when the index was loaded: stored, but perhaps by an insert a crash cut short. */
  Loaded: 2,
} as const;
export type Known = (typeof Known)[keyof typeof Known];

/** The epoch second of an event time; UTC `…Z` times of any precision and offsets alike. */
export function eventSecond(ts: string): number {
  return Math.floor(Date.parse(ts) / 1_000);
}

/**
 * The ingest consumer's memory of which events are stored, by event time, so a flush asks ClickHouse only about
 * events older than what it remembers. Invariant: every event stored in request_logs whose time is at or after
 * `horizon` (epoch seconds) is in the index. The consumer loads it from ClickHouse when it gets its partitions
 * (everything since a window before now, `load`), adds what each completed flush stored (`add`), and drops it on a
 * failed flush or a rebalance, when the invariant can no longer be vouched for. A duplicate carries its original's
 * time (the same event sent again), so an event at or after the horizon that the index lacks is new.
 *
 * Bounded: past `maxIds`, the oldest seconds are dropped and the horizon moves up past them (their events fall back
 * to ClickHouse lookups). Seconds are kept in a Map of Sets: eviction removes whole seconds.
 */
export class RecentEventIds {
  private readonly seconds = new Map<number, Map<string, Known>>();
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
    return this.seconds.get(second)?.get(id) ?? Known.No;
  }

  add(id: string, second: number, how: typeof Known.Inserted | typeof Known.Loaded): void {
    if (second < this.horizon) return;
    let ids = this.seconds.get(second);
    if (!ids) this.seconds.set(second, (ids = new Map<string, Known>()));
    const size = ids.size;
    ids.set(id, how);
    this.count += ids.size - size;
  }

  /** Drops the oldest seconds until at most 90 % of maxIds remain (so a full index does not evict every flush). */
  trim(): void {
    if (this.count <= this.maxIds) return;
    const target = Math.floor(this.maxIds * 0.9);
    const oldestFirst = [...this.seconds.keys()].sort((a, b) => a - b);
    for (const second of oldestFirst) {
      if (this.count <= target) break;
      this.count -= this.seconds.get(second)!.size;
      this.seconds.delete(second);
      this.horizon = second + 1;
    }
  }
}
