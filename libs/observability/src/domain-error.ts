/**
 * A failure the caller can act on, with a stable code. One global filter (http-exception.filter.ts) turns it into
 * NestJS's error shape; services throw these instead of HTTP exceptions.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} not found`, 404);
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

export class UnavailableError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 503);
  }
}
