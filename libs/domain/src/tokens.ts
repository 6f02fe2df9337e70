import { createHash, randomBytes } from 'node:crypto';

/**
 * API tokens and ingest keys: a random secret shown once, stored only as its SHA-256 hash. SHA-256 (not a slow
 * password hash) is right here: the secrets carry 192 bits of randomness, and the edge looks them up on every
 * request, so the lookup must be a single indexed equality.
 */
export interface IssuedSecret {
  secret: string;
  prefix: string;
  hash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The first characters people see in lists to tell keys apart (`ug_live_3fa9c1`). */
export function secretPrefix(secret: string): string {
  return secret.slice(0, 14);
}

export function issueSecret(kind: 'live' | 'ingest' | 'demo' = 'live'): IssuedSecret {
  const secret = `ug_${kind}_${randomBytes(24).toString('base64url')}`;
  return { secret, prefix: secretPrefix(secret), hash: hashSecret(secret) };
}
