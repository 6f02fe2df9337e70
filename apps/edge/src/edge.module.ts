import { Module } from '@nestjs/common';

/** The edge feature: the limiter, restrictions, the reverse proxy. Infrastructure comes from the root module. */
@Module({})
export class EdgeModule {}
