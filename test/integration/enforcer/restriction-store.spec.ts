import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RestrictionRecord, restrictionKeys } from '@usageguard/contracts';
import { RedisRepository, RestrictionStore } from '@usageguard/redis';
import { createTestEnvironment, type TestEnvironment, waitFor } from '@usageguard/testing';
import { deletePrefix } from './harness';

const record = (over: Partial<RestrictionRecord> = {}): RestrictionRecord => ({
  id: 'r1',
  accountId: 'acct-1',
  scope: 'account',
  scopeValue: null,
  mode: 'block',
  throttleFactor: null,
  statusCode: 429,
  reasonCode: 'reasonable_use',
  reason: '',
  expiresAt: Date.now() + 60_000,
  version: 1,
  ...over,
});

describe('restriction store: the writer side of the Redis contract (real Redis)', () => {
  let env: TestEnvironment;
  let redis: RedisRepository;
  let store: RestrictionStore;
  const announced: { action: string; key: string; version: number }[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment();
    redis = new RedisRepository(env.config);
    store = new RestrictionStore(redis);
    const subscriber = redis.connect();
    subscriber.on('message', (_c: string, m: string) => announced.push(JSON.parse(m)));
    await subscriber.subscribe(restrictionKeys.channel(redis.prefix));
  });

  afterAll(async () => {
    await redis?.onModuleDestroy();
    if (env) await deletePrefix(env.config.redis.url, env.config.redis.prefix);
    await env?.cleanup();
  });

  it('writes the record with TTL = time to expiry, indexes it, and announces it', async () => {
    const r = record({ accountId: 'a-put', expiresAt: Date.now() + 30_000 });
    expect(await store.put(r)).toBe('written');
    const key = restrictionKeys.record(redis.prefix, 'a-put', 'account', null);
    expect(JSON.parse((await redis.client.get(key))!)).toEqual(r);
    const ttl = await redis.client.pttl(key);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await redis.client.smembers(restrictionKeys.index(redis.prefix, 'a-put'))).toEqual([key]);
    expect(await redis.client.pttl(restrictionKeys.index(redis.prefix, 'a-put'))).toBeGreaterThan(25_000);
    await waitFor(() => announced.some((a) => a.key === key && a.action === 'upsert' && a.version === 1));
  });

  it('never lets the version go backwards, across puts and removals', async () => {
    const a = 'a-versions';
    expect(await store.put(record({ accountId: a, version: 5, reason: 'v5' }))).toBe('written');
    expect(await store.put(record({ accountId: a, version: 4, reason: 'v4' }))).toBe('stale');
    expect((await store.get(a, 'account', null))?.reason).toBe('v5');
    expect(await store.put(record({ accountId: a, version: 5 }))).toBe('unchanged'); // same version, same state
    expect(await store.remove(a, 'account', null, 4)).toBe('stale');
    expect(await store.get(a, 'account', null)).not.toBeNull();
    expect(await store.remove(a, 'account', null, 6)).toBe('written');
    expect(await store.get(a, 'account', null)).toBeNull();
    expect(await store.put(record({ accountId: a, version: 5 }))).toBe('stale'); // a late write cannot revive it
    expect(await store.get(a, 'account', null)).toBeNull();
    expect(await store.put(record({ accountId: a, id: 'r2', version: 7 }))).toBe('written'); // a new one can
    expect((await store.get(a, 'account', null))?.id).toBe('r2');
    // Only real changes are announced, in order (one connection publishes them all).
    const key = restrictionKeys.record(redis.prefix, a, 'account', null);
    await waitFor(() => announced.some((x) => x.key === key && x.version === 7));
    expect(announced.filter((x) => x.key === key).map((x) => [x.action, x.version])).toEqual([
      ['upsert', 5],
      ['remove', 6],
      ['upsert', 7],
    ]);
  });

  it('removes instead of writing a record that has already expired', async () => {
    const a = 'a-expired';
    await store.put(record({ accountId: a, version: 1 }));
    expect(await store.put(record({ accountId: a, version: 2, expiresAt: Date.now() - 1 }))).toBe('written');
    expect(await store.get(a, 'account', null)).toBeNull();
    expect(await redis.client.smembers(restrictionKeys.index(redis.prefix, a))).toEqual([]);
  });

  it('refuses a record the contract refuses', async () => {
    await expect(store.put(record({ accountId: 'a-bad', throttleFactor: 2 }))).rejects.toThrow();
    expect(await store.get('a-bad', 'account', null)).toBeNull();
  });

  it('lists indexed keys with their last version and parses narrow scopes back (IPv6, routes with colons)', async () => {
    const a = 'a-scan';
    await store.put(record({ accountId: a, scope: 'ip', scopeValue: '2001:db8::1', version: 3 }));
    await store.put(record({ accountId: a, scope: 'route', scopeValue: 'GET /v1/x:y', version: 2 }));
    const mine = (await store.indexedKeys()).filter((k) => k.accountId === a);
    expect(mine.map((k) => [store.parseKey(a, k.key), k.lastVersion]).sort()).toEqual(
      [
        [{ scope: 'ip', scopeValue: '2001:db8::1' }, 3],
        [{ scope: 'route', scopeValue: 'GET /v1/x:y' }, 2],
      ].sort(),
    );
    expect(store.parseKey(a, `${redis.prefix}something-else`)).toBeNull();
  });
});
