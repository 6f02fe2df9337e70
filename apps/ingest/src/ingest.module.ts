import { Module } from '@nestjs/common';

/** The ingest feature: its controllers, consumers, jobs and services. Infrastructure comes from the root module. */
@Module({})
export class IngestModule {}
