import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { IngestKeyGuard } from '../auth/ingest-key.guard';
import { LogIntakeService } from '../services/log-intake.service';

/** Request logs from other gateways (docs/ingest.md). */
@Controller('v1/ingest')
@UseGuards(IngestKeyGuard)
export class IngestController {
  constructor(@Inject(LogIntakeService) private readonly intake: LogIntakeService) {}

  /** 202 once Kafka acknowledged every event; 400 lists every invalid one; 413 too large; 503 retry later. */
  @Post('logs')
  @HttpCode(202)
  async ingest(@Body() body: unknown): Promise<{ accepted: number }> {
    const events = this.intake.validate(body);
    await this.intake.publish(events);
    return { accepted: events.length };
  }
}
