import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PrismaRepository } from '@usageguard/database';
import { hashSecret } from '@usageguard/domain';
import { DomainError } from '@usageguard/observability';

export interface CustomerRequest {
  headers: Record<string, string | string[] | undefined>;
  customer?: { accountId: string; tokenId: string };
}

/**
 * The customer's own API token (`Authorization: Bearer ug_live_…`): looked up by its SHA-256 in api_tokens, refused
 * when unknown or revoked. The request then acts for that token's account only.
 */
@Injectable()
export class CustomerTokenGuard implements CanActivate {
  constructor(@Inject(PrismaRepository) private readonly prisma: PrismaRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<CustomerRequest>();
    const auth = request.headers.authorization;
    if (typeof auth !== 'string' || !/^Bearer\s+\S+$/i.test(auth)) {
      throw new DomainError('missing_api_token', 'an API token is required (Authorization: Bearer <token>)', 401);
    }
    const token = await this.prisma.apiToken.findUnique({
      where: { secretHash: hashSecret(auth.replace(/^Bearer\s+/i, '')) },
      select: { id: true, accountId: true, revokedAt: true },
    });
    if (!token || token.revokedAt !== null) {
      throw new DomainError('invalid_api_token', 'the API token is unknown or revoked', 401);
    }
    request.customer = { accountId: token.accountId, tokenId: token.id };
    return true;
  }
}
