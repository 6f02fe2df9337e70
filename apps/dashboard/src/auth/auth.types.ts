import { type OpsRole } from '@usageguard/database';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'ug_session';
export const CSRF_HEADER = 'x-csrf-token';

/** Roles in increasing order of power: each one can do everything the ones before it can. */
export const ROLE_ORDER: readonly OpsRole[] = ['VIEWER', 'OPERATOR', 'ADMIN'];

export const roleAtLeast = (role: OpsRole, least: OpsRole): boolean =>
  ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(least);

export interface OpsPrincipal {
  userId: string;
  email: string;
  name: string;
  role: OpsRole;
  sessionId: string;
  csrfToken: string;
}

export interface AuthenticatedRequest extends IncomingMessage {
  ip?: string;
  method: string;
  principal?: OpsPrincipal;
}

/** Reads one cookie from the raw header, so the guard needs no app-wide middleware (the control plane composes us). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) {
      try {
        return decodeURIComponent(part.slice(index + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
