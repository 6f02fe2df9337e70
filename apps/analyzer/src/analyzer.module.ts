import { Module } from '@nestjs/common';
import { BacktestController } from './controllers/backtest.controller';
import { BurstNoticesController } from './controllers/burst-notices.controller';
import { OpsSessionGuard } from './controllers/ops-session.guard';
import { BacktestService } from './services/backtest.service';
import { AnalyzerJobs } from './jobs/analyzer.jobs';
import { AnalyzerService } from './services/analyzer.service';
import { BurstNoticesService } from './services/burst-notices.service';
import { CustomerTokenGuard } from './controllers/customer-token.guard';
import { FlagWriterService } from './services/flag-writer.service';
import { UsageReaderService } from './services/usage-reader.service';

/** The analyzer feature: baselines, detection, flags, scheduling, and the customers' burst-notice API. */
@Module({
  controllers: [BurstNoticesController, BacktestController],
  providers: [
    UsageReaderService,
    FlagWriterService,
    AnalyzerService,
    AnalyzerJobs,
    BurstNoticesService,
    CustomerTokenGuard,
    OpsSessionGuard,
    BacktestService,
  ],
  exports: [AnalyzerService],
})
export class AnalyzerModule {}
