import { Inject, Injectable } from '@nestjs/common';
import {
  type RestrictionAnnouncement,
  type RestrictionRecord,
  type RestrictionScopeName,
  restrictionKeys,
  restrictionRecordSchema,
} from '@usageguard/contracts';
import { RedisRepository } from './redis.repository';

/** How long the writer remembers the last version of a removed key, so a late, older write cannot revive it. */
const VERSION_MEMORY_MS = 7 * 86_400_000;

/**
 * KEYS: record, index, versions.  ARGV: json, ttlMs, version, channel, announcement, memoryMs.
 * Writes only if no newer version was written or removed for this key: 1 written, 0 stale, 2 already there (the
 * same version is the same state, so a reconcile pass announces nothing new).
 */
const PUT = `
local last = tonumber(redis.call('HGET', KEYS[3], KEYS[1]) or '0')
local version = tonumber(ARGV[3])
if last > version then return 0 end
if last == version and redis.call('EXISTS', KEYS[1]) == 1 then return 2 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], KEYS[1])
local indexTtl = redis.call('PTTL', KEYS[2])
if indexTtl < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
redis.call('HSET', KEYS[3], KEYS[1], version)
redis.call('PEXPIRE', KEYS[3], ARGV[6])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

/** KEYS: record, index, versions.  ARGV: version, channel, announcement, memoryMs. Returns 1 when removed. */
const REMOVE = `
local last = tonumber(redis.call('HGET', KEYS[3], KEYS[1]) or '0')
local version = tonumber(ARGV[1])
if last > version then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], version)
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

export type WriteOutcome = 'written' | 'stale' | 'unchanged';

/**
 * The writer's side of the restriction contract (libs/contracts/src/restriction-record.ts): the record under its
 * key with TTL = time to expiry, the account's index set, an announcement on the channel, and a version that never
 * goes backwards. Each write is one Lua script, so a reader never sees the record without its index entry, and two
 * writers racing (a job and a reconcile) cannot put an older state over a newer one — nor revive a removed key with
 * an older version: the last version per key is kept in `restriction-versions:{account}` (writer-internal; edges
 * never read it).
 */
@Injectable()
export class RestrictionStore {
  constructor(@Inject(RedisRepository) private readonly redis: RedisRepository) {}

  keyOf(accountId: string, scope: RestrictionScopeName, scopeValue: string | null): string {
    return restrictionKeys.record(this.redis.prefix, accountId, scope, scopeValue);
  }

  /** Writes the record; an already expired record is removed instead (Redis refuses a TTL ≤ 0). */
  async put(record: RestrictionRecord, now = Date.now()): Promise<WriteOutcome> {
    const valid = restrictionRecordSchema.parse(record);
    const ttlMs = valid.expiresAt - now;
    if (ttlMs <= 0) return this.remove(valid.accountId, valid.scope, valid.scopeValue, valid.version);
    const key = this.keyOf(valid.accountId, valid.scope, valid.scopeValue);
    const announcement: RestrictionAnnouncement = {
      action: 'upsert',
      accountId: valid.accountId,
      key,
      version: valid.version,
    };
    const written = await this.redis.client.eval(
      PUT,
      3,
      key,
      restrictionKeys.index(this.redis.prefix, valid.accountId),
      this.versionsKey(valid.accountId),
      JSON.stringify(valid),
      String(Math.ceil(ttlMs)),
      String(valid.version),
      restrictionKeys.channel(this.redis.prefix),
      JSON.stringify(announcement),
      String(VERSION_MEMORY_MS),
    );
    return written === 1 ? 'written' : written === 2 ? 'unchanged' : 'stale';
  }

  /** Removes the key unless a newer version was written since; announces the removal with its version. */
  async remove(
    accountId: string,
    scope: RestrictionScopeName,
    scopeValue: string | null,
    version: number,
  ): Promise<WriteOutcome> {
    const key = this.keyOf(accountId, scope, scopeValue);
    const announcement: RestrictionAnnouncement = { action: 'remove', accountId, key, version };
    const removed = await this.redis.client.eval(
      REMOVE,
      3,
      key,
      restrictionKeys.index(this.redis.prefix, accountId),
      this.versionsKey(accountId),
      String(version),
      restrictionKeys.channel(this.redis.prefix),
      JSON.stringify(announcement),
      String(VERSION_MEMORY_MS),
    );
    return removed === 1 ? 'written' : 'stale';
  }

  /** The record as an edge reads it: the key's JSON, validated against the contract. */
  async get(
    accountId: string,
    scope: RestrictionScopeName,
    scopeValue: string | null,
  ): Promise<RestrictionRecord | null> {
    const json = await this.redis.client.get(this.keyOf(accountId, scope, scopeValue));
    return json === null ? null : restrictionRecordSchema.parse(JSON.parse(json));
  }

  /**
   * Every record key in the index sets of this installation (for reconcile), with its account and the last version
   * this writer put or removed there (0 if it never did).
   */
  async indexedKeys(): Promise<{ accountId: string; key: string; lastVersion: number }[]> {
    const found: { accountId: string; key: string; lastVersion: number }[] = [];
    const pattern = `${escapeGlob(this.redis.prefix)}restrictions:{*}`;
    let cursor = '0';
    do {
      const [next, indexes] = await this.redis.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const index of indexes) {
        const accountId = /\{([^}]*)\}$/.exec(index)?.[1];
        if (!accountId) continue;
        const keys = await this.redis.client.smembers(index);
        if (keys.length === 0) continue;
        const versions = await this.redis.client.hmget(this.versionsKey(accountId), ...keys);
        keys.forEach((key, i) => found.push({ accountId, key, lastVersion: Number(versions[i] ?? 0) }));
      }
    } while (cursor !== '0');
    return found;
  }

  /** Removes a key found by indexedKeys() that Postgres no longer backs, unless a newer version was written since. */
  async removeKey(accountId: string, key: string, version: number): Promise<WriteOutcome> {
    const parsed = this.parseKey(accountId, key);
    if (!parsed) {
      // Not a key this writer makes: drop it from the index so edges stop looking for it.
      await this.redis.client.srem(restrictionKeys.index(this.redis.prefix, accountId), key);
      return 'written';
    }
    return this.remove(accountId, parsed.scope, parsed.scopeValue, version);
  }

  parseKey(accountId: string, key: string): { scope: RestrictionScopeName; scopeValue: string | null } | null {
    const head = restrictionKeys.record(this.redis.prefix, accountId, 'account', null).replace(/account:\*$/, '');
    if (!key.startsWith(head)) return null;
    const rest = key.slice(head.length);
    const colon = rest.indexOf(':');
    const scope = rest.slice(0, colon) as RestrictionScopeName;
    if (!['account', 'token', 'ip', 'route'].includes(scope)) return null;
    const value = rest.slice(colon + 1);
    return { scope, scopeValue: value === '*' ? null : value };
  }

  private versionsKey(accountId: string): string {
    return `${this.redis.prefix}restriction-versions:{${accountId}}`;
  }
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\{}]/g, (c) => `\\${c}`);
}
