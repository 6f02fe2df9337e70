import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type AuthenticatedRequest } from './auth.types';

export interface RequestContext {
  requestId: string | null;
  ip: string;
  userAgent: string;
  /** Client-chosen key for a retried action (Idempotency-Key header), else the request id. */
  idempotencyKey: string;
}

/** Who is calling from where, for the audit log and deterministic job ids. */
export const Context = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  const id: unknown = request.id;
  const requestId = typeof id === 'string' || typeof id === 'number' ? String(id) : null;
  const given = request.headers['idempotency-key'];
  const idempotencyKey =
    typeof given === 'string' && /^[\w-]{8,128}$/.test(given) ? given : (requestId ?? `${Date.now()}-${Math.random()}`);
  const agent = request.headers['user-agent'];
  return {
    requestId,
    ip: request.ip ?? request.socket.remoteAddress ?? '',
    userAgent: typeof agent === 'string' ? agent : '',
    idempotencyKey,
  };
});
