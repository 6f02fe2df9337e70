import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { LimiterScriptRepository } from '@usageguard/redis';
import { LIMITER_SUBJECT_RESOLVER, LimiterGuard, type LimiterSubjectResolver } from './limiter.guard';
import { LimiterService } from './limiter.service';

export interface LimiterModuleOptions {
  /** Tells the guard who a request counts against; omit when only LimiterService is used (the gateway). */
  resolver?: { inject?: unknown[]; useFactory: (...deps: never[]) => LimiterSubjectResolver };
}

/**
 * The limiter for any Nest app: LimiterService (one Redis round trip per decision, fail modes, circuit breaker) and
 * LimiterGuard. Needs ConfigModule, RedisModule and ObservabilityModule in the root module, as every app has.
 */
@Module({})
export class LimiterModule {
  static forRoot(options: LimiterModuleOptions = {}): DynamicModule {
    const providers: Provider[] = [LimiterScriptRepository, LimiterService, LimiterGuard];
    if (options.resolver) {
      providers.push({
        provide: LIMITER_SUBJECT_RESOLVER,
        inject: (options.resolver.inject ?? []) as never[],
        useFactory: options.resolver.useFactory,
      });
    }
    // The resolver is exported too: Nest instantiates a guard named in @UseGuards() in the controller's module.
    const exports: unknown[] = [LimiterService, LimiterGuard, LimiterScriptRepository];
    if (options.resolver) exports.push(LIMITER_SUBJECT_RESOLVER);
    return { module: LimiterModule, providers, exports: exports as DynamicModule['exports'] };
  }
}
