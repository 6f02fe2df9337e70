import { Body, Controller, Get, HttpCode, Inject, Post, Query, Res, UseGuards } from '@nestjs/common';
import { UnavailableError } from '@usageguard/observability';
import { IngestKeyGuard } from '../auth/ingest-key.guard';
import { type ReconciliationReport, ReconciliationQueryDto } from '../dtos/reconciliation.dto';
import { LogIntakeService } from '../services/log-intake.service';
import { ReconciliationService } from '../services/reconciliation.service';

/** Request logs from other gateways (docs/ingest.md). */
@Controller('v1/ingest')
@UseGuards(IngestKeyGuard)
export class IngestController {
  constructor(
    @Inject(LogIntakeService) private readonly intake: LogIntakeService,
    @Inject(ReconciliationService) private readonly reconciliation: ReconciliationService,
  ) {}

  /** 202 once Kafka acknowledged every event; 400 lists every invalid one; 413 too large; 503 retry later. */
  @Post('logs')
  @HttpCode(202)
  async ingest(
    @Body() body: unknown,
    @Res({ passthrough: true }) response: { setHeader(name: string, value: string): void },
  ): Promise<{ accepted: number }> {
    const events = this.intake.validate(body);
    try {
      await this.intake.publish(events);
    } catch (error) {
      if (error instanceof UnavailableError) response.setHeader('Retry-After', '5');
      throw error;
    }
    return { accepted: events.length };
  }

  /** Per account × minute: what Kafka accepted against what ClickHouse holds; lists every difference. */
  @Get('reconciliation')
  reconcile(@Query() query: ReconciliationQueryDto): Promise<ReconciliationReport> {
    return this.reconciliation.reconcile(query);
  }
}
