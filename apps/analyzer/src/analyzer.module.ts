import { Module } from '@nestjs/common';

/** The analyzer feature: its controllers, consumers, jobs and services. Infrastructure comes from the root module. */
@Module({})
export class AnalyzerModule {}
