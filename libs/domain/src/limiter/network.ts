import { isIP } from 'node:net';

/** An IPv4 or IPv6 network; addresses are compared as bigints so both families share one code path. */
export interface Cidr {
  text: string;
  family: 4 | 6;
  base: bigint;
  bits: number;
}

export function parseCidr(text: string): Cidr {
  const [address, prefix] = text.trim().split('/');
  const detected = isIP(address);
  if (detected === 0) throw new Error(`invalid network ${text}`);
  const family = detected as 4 | 6;
  const width = family === 4 ? 32 : 128;
  const bits = prefix === undefined ? width : Number(prefix);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`invalid prefix length in ${text}`);
  const value = toBigInt(address, family);
  const mask = maskOf(bits, width);
  return { text: `${address}/${bits}`, family, base: value & mask, bits };
}

export function matchCidr(cidr: Cidr, ip: string): boolean {
  const address = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const family = isIP(address);
  if (family !== cidr.family) return false;
  const width = family === 4 ? 32 : 128;
  return (toBigInt(address, family) & maskOf(cidr.bits, width)) === cidr.base;
}

function maskOf(bits: number, width: number): bigint {
  if (bits === 0) return 0n;
  return ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
}

function toBigInt(address: string, family: number): bigint {
  if (family === 4) return address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
  const [head, tail = ''] = address.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  let groups = parse(head);
  let rest = parse(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const last = (address.includes('::') ? rest : groups).at(-1);
  if (last?.includes('.')) {
    const v4 = toBigInt(last, 4);
    const extra = [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    if (address.includes('::')) rest = [...rest.slice(0, -1), ...extra];
    else groups = [...groups.slice(0, -1), ...extra];
  }
  const missing = address.includes('::') ? 8 - groups.length - rest.length : 0;
  const all = [...groups, ...Array<string>(missing).fill('0'), ...rest];
  return all.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}
