import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiCookieAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { BacktestReport } from '@usageguard/contracts';
import { BacktestService } from '../services/backtest.service';
import { BacktestRequestDto } from './backtest.dto';
import { OpsSessionGuard } from './ops-session.guard';

/** `usageguard backtest` talks to this: the analyzer and its embedded ClickHouse live in this process. */
@ApiTags('analyzer')
@ApiCookieAuth('session')
@UseGuards(OpsSessionGuard)
@Controller('api/analyzer')
export class BacktestController {
  constructor(@Inject(BacktestService) private readonly backtest: BacktestService) {}

  @Post('backtest')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replay stored history with a candidate rule set; list flags that appear or disappear' })
  run(@Body() body: BacktestRequestDto): Promise<BacktestReport> {
    return this.backtest.run(body);
  }
}
