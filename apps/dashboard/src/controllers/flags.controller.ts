import { Body, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MinRole, OpsController, Principal } from '../auth/auth.decorators';
import { type OpsPrincipal } from '../auth/auth.types';
import { Context, type RequestContext } from '../auth/request-context';
import { FlagListQuery, ReviewFlagDto } from '../dtos/flags.dto';
import { AccountsService } from '../services/accounts.service';
import { ActionsService } from '../services/actions.service';

@OpsController('flags', 'flags')
export class FlagsController {
  constructor(
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(ActionsService) private readonly actions: ActionsService,
  ) {}

  @Get()
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Flagged accounts: filter by status, severity, kind, plan; sort by severity, age, score' })
  list(@Query() query: FlagListQuery) {
    return this.accounts.listFlags(query);
  }

  @Get('counts')
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Open flags by severity, kind and plan' })
  counts() {
    return this.accounts.openFlagCounts();
  }

  @Post(':id/review')
  @MinRole('OPERATOR')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve (enforce) or dismiss a flag, through the enforcer' })
  review(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ReviewFlagDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.actions.reviewFlag(id, body, principal, context).then((result) => ({ ok: true, result }));
  }
}
