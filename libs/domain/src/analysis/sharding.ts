/**
 * Which analyzer shard owns an account: FNV-1a of its id, modulo the shard count. Stable across processes and
 * restarts, so each account is analyzed by exactly one analyze-shard job per cycle.
 */
export function shardOf(accountId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    hash ^= accountId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
