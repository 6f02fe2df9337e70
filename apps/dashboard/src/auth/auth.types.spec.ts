import { describe, expect, it } from 'vitest';
import { readCookie, roleAtLeast } from './auth.types';

describe('readCookie', () => {
  it('finds the named cookie among others and decodes it', () => {
    expect(readCookie('a=1; ug_session=abc%2Bdef; b=2', 'ug_session')).toBe('abc+def');
    expect(readCookie('ug_session_other=x; ug_session=y', 'ug_session')).toBe('y');
  });

  it('returns undefined when absent or undecodable', () => {
    expect(readCookie(undefined, 'ug_session')).toBeUndefined();
    expect(readCookie('a=1', 'ug_session')).toBeUndefined();
    expect(readCookie('ug_session=%E0%A4%A', 'ug_session')).toBeUndefined();
  });
});

describe('roleAtLeast', () => {
  it('orders viewer < operator < admin', () => {
    expect(roleAtLeast('ADMIN', 'OPERATOR')).toBe(true);
    expect(roleAtLeast('OPERATOR', 'OPERATOR')).toBe(true);
    expect(roleAtLeast('VIEWER', 'OPERATOR')).toBe(false);
    expect(roleAtLeast('OPERATOR', 'ADMIN')).toBe(false);
  });
});
