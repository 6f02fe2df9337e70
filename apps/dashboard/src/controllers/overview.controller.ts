import { Get, Inject } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MinRole, OpsController } from '../auth/auth.decorators';
import { AccountsService } from '../services/accounts.service';
import { UsageService } from '../services/usage.service';

@OpsController('overview', 'overview')
export class OverviewController {
  constructor(
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(AccountsService) private readonly accounts: AccountsService,
  ) {}

  @Get()
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Live overview: requests/min, share limited, open flags, ingest lag, last hour' })
  async overview() {
    const [traffic, counts] = await Promise.all([this.usage.overview(), this.accounts.overviewCounts()]);
    return { ...traffic, ...counts, at: new Date().toISOString() };
  }
}
