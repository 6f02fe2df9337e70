import { Module } from '@nestjs/common';

/** The dashboard feature: its controllers, consumers, jobs and services. Infrastructure comes from the root module. */
@Module({})
export class DashboardModule {}
