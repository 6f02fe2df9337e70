import { describe, expect, it } from 'vitest';
import { shardOf } from './sharding';

describe('shardOf', () => {
  const ids = Array.from({ length: 4000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

  it('is stable and within range', () => {
    for (const id of ids.slice(0, 50)) {
      expect(shardOf(id, 4)).toBe(shardOf(id, 4));
      expect(shardOf(id, 4)).toBeGreaterThanOrEqual(0);
      expect(shardOf(id, 4)).toBeLessThan(4);
    }
    expect(shardOf('anything', 1)).toBe(0);
  });

  it('spreads accounts evenly enough over shards', () => {
    const counts = [0, 0, 0, 0];
    for (const id of ids) counts[shardOf(id, 4)]++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});
