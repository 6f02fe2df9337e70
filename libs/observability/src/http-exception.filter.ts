import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { DomainError } from './domain-error';

interface ErrorBody {
  message: string | string[];
  error: string;
  statusCode: number;
  code?: string;
  details?: unknown;
  requestId?: string;
}

interface MinimalResponse {
  headersSent: boolean;
  status(code: number): { json(body: unknown): void };
}

/** Every error leaves in NestJS's shape `{ message, error, statusCode }`, plus a code and the request id. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<MinimalResponse>();
    const request = http.getRequest<{ id?: string; method?: string; url?: string }>();
    const body = this.toBody(exception);
    if (request?.id !== undefined) body.requestId = String(request.id);
    if (body.statusCode >= 500) {
      this.logger.error(`${request?.method} ${request?.url}: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    if (!response.headersSent) response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof DomainError) {
      return {
        message: exception.message,
        error: STATUS_CODES[exception.status] ?? 'Error',
        statusCode: exception.status,
        code: exception.code,
        ...(exception.details === undefined ? {} : { details: exception.details }),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const raw = exception.getResponse();
      if (typeof raw === 'object' && raw !== null) {
        const r = raw as Partial<ErrorBody>;
        return {
          message: r.message ?? exception.message,
          error: typeof r.error === 'string' ? r.error : (STATUS_CODES[status] ?? 'Error'),
          statusCode: status,
          ...(r.code ? { code: r.code } : {}),
          // Terminus puts the failing checks under `error`; they move to details so `error` stays a string.
          ...(r.details !== undefined
            ? { details: r.details }
            : typeof r.error === 'object'
              ? { details: r.error }
              : {}),
        };
      }
      return { message: String(raw), error: STATUS_CODES[status] ?? 'Error', statusCode: status };
    }
    // Body-parser errors carry a status (400 malformed JSON, 413 too large) but are not HttpExceptions.
    const status = (exception as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return { message: (exception as Error).message, error: STATUS_CODES[status] ?? 'Error', statusCode: status };
    }
    return {
      message: 'Internal server error',
      error: 'Internal Server Error',
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
    };
  }
}
