import { Module } from '@nestjs/common';
import { RequestLogProducerModule } from '@usageguard/kafka';
import { RestrictionReaderRepository } from '@usageguard/redis';
import { GatewayServer } from './gateway/gateway.server';
import { LimiterModule } from './limiter/limiter.module';
import { CredentialCacheService } from './services/credential-cache.service';
import { RestrictionCacheService } from './services/restriction-cache.service';

/** The edge feature: the limiter, restrictions, the reverse proxy. Infrastructure comes from the root module. */
@Module({
  imports: [LimiterModule.forRoot(), RequestLogProducerModule],
  providers: [RestrictionReaderRepository, CredentialCacheService, RestrictionCacheService, GatewayServer],
  exports: [GatewayServer],
})
export class EdgeModule {}
