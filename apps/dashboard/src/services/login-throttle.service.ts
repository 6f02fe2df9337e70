import { Inject, Injectable } from '@nestjs/common';
import { RedisRepository } from '@usageguard/redis';
import { createHash } from 'node:crypto';

/** Failed sign-ins allowed per email (from any address) and per client address within the window. */
export const LOGIN_LIMITS = { perEmail: 5, perIp: 20, windowSeconds: 15 * 60 } as const;

export interface ThrottleState {
  blocked: boolean;
  retryAfterSeconds: number;
}

/**
 * Slows password guessing: counts failed sign-ins per email and per client IP in Redis (fixed windows). While
 * either count is over its limit, sign-in is refused before the password is even checked.
 */
@Injectable()
export class LoginThrottleService {
  constructor(@Inject(RedisRepository) private readonly redis: RedisRepository) {}

  private keys(email: string, ip: string): { email: string; ip: string } {
    const emailHash = createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 32);
    return {
      email: this.redis.key('dashboard', 'login-failures', 'email', emailHash),
      ip: this.redis.key('dashboard', 'login-failures', 'ip', ip),
    };
  }

  async check(email: string, ip: string): Promise<ThrottleState> {
    const keys = this.keys(email, ip);
    const results = await this.redis.client.multi().get(keys.email).ttl(keys.email).get(keys.ip).ttl(keys.ip).exec();
    const value = (i: number) => Number((results?.[i]?.[1] as string | null) ?? 0);
    const overEmail = value(0) >= LOGIN_LIMITS.perEmail;
    const overIp = value(2) >= LOGIN_LIMITS.perIp;
    const retryAfterSeconds = Math.max(overEmail ? value(1) : 0, overIp ? value(3) : 0, 1);
    return { blocked: overEmail || overIp, retryAfterSeconds };
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const keys = this.keys(email, ip);
    await this.redis.client
      .multi()
      .incr(keys.email)
      .expire(keys.email, LOGIN_LIMITS.windowSeconds, 'NX')
      .incr(keys.ip)
      .expire(keys.ip, LOGIN_LIMITS.windowSeconds, 'NX')
      .exec();
  }

  async recordSuccess(email: string, ip: string): Promise<void> {
    await this.redis.client.del(this.keys(email, ip).email);
  }
}
