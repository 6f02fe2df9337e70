import type { OperationClass } from '@usageguard/contracts';

/**
 * Maps a raw request path to its route template (`/v1/contacts/42` → `/v1/contacts/:id`), which is what rules,
 * restrictions and request logs name. Known templates come from the plans' rules and EDGE_ROUTES; any other path
 * has its id-like segments (numbers, UUIDs, long hex or mixed tokens) replaced by `:id`, so logs never explode in
 * cardinality.
 */

interface Template {
  template: string;
  segments: string[];
  wildcard: boolean;
}

const ID_LIKE =
  /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|[A-Za-z0-9_-]{24,})$/i;

export class RouteTable {
  private readonly exact = new Map<string, string>();
  private readonly patterns: Template[] = [];
  private readonly cache = new Map<string, string>();

  constructor(templates: Iterable<string>) {
    for (const raw of templates) {
      const template = raw.trim().split(/\s+/).at(-1) ?? '';
      if (!template.startsWith('/')) continue;
      if (!template.includes(':') && !template.endsWith('*')) {
        this.exact.set(template, template);
        continue;
      }
      const wildcard = template.endsWith('*');
      const body = wildcard ? template.slice(0, -1).replace(/\/$/, '') : template;
      this.patterns.push({ template, segments: body.split('/').slice(1), wildcard });
    }
    // More specific first: longer templates, fewer parameters.
    this.patterns.sort((a, b) => b.segments.length - a.segments.length || params(a) - params(b));
  }

  resolve(path: string): string {
    const clean = stripQuery(path);
    const known = this.exact.get(clean) ?? this.cache.get(clean);
    if (known) return known;
    const segments = clean.split('/').slice(1);
    const found = this.patterns.find((t) => matches(t, segments))?.template ?? normalise(segments);
    if (this.cache.size < 10_000) this.cache.set(clean, found);
    return found;
  }
}

function params(t: Template): number {
  return t.segments.filter((s) => s.startsWith(':')).length;
}

function matches(t: Template, segments: string[]): boolean {
  if (t.wildcard ? segments.length < t.segments.length : segments.length !== t.segments.length) return false;
  return t.segments.every((s, i) => s.startsWith(':') || s === segments[i]);
}

function normalise(segments: string[]): string {
  return '/' + segments.map((s) => (ID_LIKE.test(s) ? ':id' : s)).join('/');
}

export function stripQuery(path: string): string {
  const q = path.indexOf('?');
  const clean = q === -1 ? path : path.slice(0, q);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean || '/';
}

/** The operation class a request log carries: bulk and auth by path, then read or write by method. */
export function operationOf(method: string, route: string): OperationClass {
  if (/\/(bulk|batch)(\/|$)/.test(route)) return 'bulk';
  if (/\/(auth|oauth|token|login)(\/|$)/.test(route)) return 'auth';
  if (/\/admin(\/|$)/.test(route)) return 'admin';
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'read';
  if (method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE') return 'write';
  return 'other';
}
