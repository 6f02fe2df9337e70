import { Module } from '@nestjs/common';

/** The enforcer feature: its controllers, consumers, jobs and services. Infrastructure comes from the root module. */
@Module({})
export class EnforcerModule {}
