import { describe, expect, it } from 'vitest';
import type { RestrictionAnnouncement, RestrictionRecord } from '@usageguard/contracts';
import type { RestrictionReaderRepository } from '@usageguard/redis';
import { RestrictionCacheService } from './restriction-cache.service';

const record = (over: Partial<RestrictionRecord> = {}): RestrictionRecord => ({
  id: 'r',
  accountId: 'acct',
  scope: 'account',
  scopeValue: null,
  mode: 'block',
  throttleFactor: null,
  statusCode: 429,
  reasonCode: 'sustained_excess',
  reason: '',
  expiresAt: Date.now() + 60_000,
  version: 1,
  ...over,
});

/** An in-memory stand-in for Redis: what loadAll/get return, and the announcement callback to drive. */
function fakeReader(stored: RestrictionRecord[]) {
  const keyOf = (r: RestrictionRecord) => `k:${r.accountId}:${r.scope}:${r.scopeValue ?? '*'}`;
  let announce: (a: RestrictionAnnouncement) => void = () => undefined;
  const reader = {
    keyOf,
    loadAll: () => Promise.resolve([...stored]),
    get: (key: string) => Promise.resolve(stored.find((r) => keyOf(r) === key) ?? null),
    subscribe: (on: (a: RestrictionAnnouncement) => void) => {
      announce = on;
      return Promise.resolve(() => Promise.resolve());
    },
  };
  return {
    reader: reader as unknown as RestrictionReaderRepository,
    announce: (a: RestrictionAnnouncement) => announce(a),
    stored,
    keyOf,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('RestrictionCacheService', () => {
  it('loads every restriction at start and matches each scope', async () => {
    const { reader } = fakeReader([
      record({ scope: 'token', scopeValue: 'tok-1', id: 't' }),
      record({ scope: 'ip', scopeValue: '10.0.0.1', id: 'i', accountId: 'other' }),
      record({ scope: 'route', scopeValue: 'POST /v1/bulk', id: 'r', mode: 'throttle', throttleFactor: 0.5 }),
    ]);
    const cache = new RestrictionCacheService(reader);
    await cache.onModuleInit();
    expect(cache.find('acct', 'tok-1', '1.1.1.1', 'GET', '/v1/x').block?.id).toBe('t');
    expect(cache.find('acct', 'tok-2', '1.1.1.1', 'GET', '/v1/x').block).toBeNull();
    expect(cache.find('other', null, '10.0.0.1', 'GET', '/').block?.id).toBe('i');
    expect(cache.find('acct', 'tok-2', '1.1.1.1', 'POST', '/v1/bulk').throttle?.throttleFactor).toBe(0.5);
    expect(cache.find('acct', 'tok-2', '1.1.1.1', 'GET', '/v1/bulk').throttle).toBeNull();
    await cache.onModuleDestroy();
  });

  it('applies announcements, never going back to an older version, and ignores expired records', async () => {
    const fake = fakeReader([]);
    const cache = new RestrictionCacheService(fake.reader);
    await cache.onModuleInit();
    const v2 = record({ version: 2, reasonCode: 'v2' });
    fake.stored.push(v2);
    fake.announce({ action: 'upsert', accountId: 'acct', key: fake.keyOf(v2), version: 2 });
    await flush();
    expect(cache.find('acct', null, '1.1.1.1', 'GET', '/').block?.reasonCode).toBe('v2');

    // A late announcement of version 1 (and a stale read) must not replace version 2.
    fake.stored[0] = record({ version: 1, reasonCode: 'v1' });
    fake.announce({ action: 'upsert', accountId: 'acct', key: fake.keyOf(v2), version: 1 });
    await flush();
    expect(cache.find('acct', null, '1.1.1.1', 'GET', '/').block?.reasonCode).toBe('v2');
    fake.announce({ action: 'remove', accountId: 'acct', key: fake.keyOf(v2), version: 1 });
    await flush();
    expect(cache.find('acct', null, '1.1.1.1', 'GET', '/').block?.reasonCode).toBe('v2');

    fake.announce({ action: 'remove', accountId: 'acct', key: fake.keyOf(v2), version: 3 });
    await flush();
    expect(cache.find('acct', null, '1.1.1.1', 'GET', '/').block).toBeNull();

    fake.stored.splice(0, 1, record({ version: 4, expiresAt: Date.now() - 1 }));
    await cache.resync();
    expect(cache.find('acct', null, '1.1.1.1', 'GET', '/').block).toBeNull();
    await cache.onModuleDestroy();
  });

  it('picks the strongest throttle and the longest block', async () => {
    const { reader } = fakeReader([
      record({ scope: 'account', mode: 'throttle', throttleFactor: 0.5, id: 'a' }),
      record({ scope: 'token', scopeValue: 't', mode: 'throttle', throttleFactor: 0.2, id: 'b' }),
    ]);
    const cache = new RestrictionCacheService(reader);
    await cache.onModuleInit();
    expect(cache.find('acct', 't', '1.1.1.1', 'GET', '/').throttle?.id).toBe('b');
    await cache.onModuleDestroy();
  });
});
