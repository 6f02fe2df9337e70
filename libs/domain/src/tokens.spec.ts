import { describe, expect, it } from 'vitest';
import { hashSecret, issueSecret, secretPrefix } from './tokens';

describe('secrets', () => {
  it('issues distinct secrets whose hash and prefix match', () => {
    const a = issueSecret();
    const b = issueSecret();
    expect(a.secret).not.toBe(b.secret);
    expect(a.secret).toMatch(/^ug_live_[A-Za-z0-9_-]{32}$/);
    expect(a.hash).toBe(hashSecret(a.secret));
    expect(a.prefix).toBe(secretPrefix(a.secret));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
