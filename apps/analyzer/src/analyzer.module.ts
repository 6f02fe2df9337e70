import { Module } from '@nestjs/common';
import { BurstNoticesController } from './controllers/burst-notices.controller';
import { AnalyzerJobs } from './jobs/analyzer.jobs';
import { AnalyzerService } from './services/analyzer.service';
import { BurstNoticesService } from './services/burst-notices.service';
import { CustomerTokenGuard } from './controllers/customer-token.guard';
import { FlagWriterService } from './services/flag-writer.service';
import { UsageReaderService } from './services/usage-reader.service';

/** The analyzer feature: baselines, detection, flags, scheduling, and the customers' burst-notice API. */
@Module({
  controllers: [BurstNoticesController],
  providers: [
    UsageReaderService,
    FlagWriterService,
    AnalyzerService,
    AnalyzerJobs,
    BurstNoticesService,
    CustomerTokenGuard,
  ],
  exports: [AnalyzerService],
})
export class AnalyzerModule {}
