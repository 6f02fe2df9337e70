import { Body, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { MinRole, OpsController, Principal } from '../auth/auth.decorators';
import { type OpsPrincipal } from '../auth/auth.types';
import { Context, type RequestContext } from '../auth/request-context';
import { ApplyRestrictionDto } from '../dtos/restrictions.dto';
import { AccountsService } from '../services/accounts.service';
import { ActionsService } from '../services/actions.service';
import { TOP_RANGES, type TopRange, USAGE_RANGES, type UsageRange, UsageService } from '../services/usage.service';

export class UsageQuery {
  @IsOptional()
  @IsIn(Object.keys(USAGE_RANGES))
  range?: UsageRange;
}

export class TopQuery {
  @IsOptional()
  @IsIn(Object.keys(TOP_RANGES))
  range?: TopRange;
}

export class AccountSearchQuery {
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

@OpsController('accounts', 'accounts')
export class AccountsController {
  constructor(
    @Inject(AccountsService) private readonly accounts: AccountsService,
    @Inject(UsageService) private readonly usage: UsageService,
    @Inject(ActionsService) private readonly actions: ActionsService,
  ) {}

  @Get()
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Find accounts by name or external id' })
  @ApiQuery({ name: 'q', required: false })
  search(@Query() query: AccountSearchQuery) {
    return this.accounts.search(query.q ?? '');
  }

  @Get(':id')
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Account: plan, tokens, flags with evidence, restrictions, emails, burst notices' })
  detail(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.accounts.detail(id);
  }

  @Get(':id/usage')
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Requests per minute, hour or day (ClickHouse rollups), with the baseline band if any' })
  @ApiQuery({ name: 'range', required: false, enum: Object.keys(USAGE_RANGES) })
  async usageSeries(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: UsageQuery) {
    await this.accounts.assertExists(id);
    return this.usage.series(id, query.range ?? '48h');
  }

  @Get(':id/top')
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Top routes, tokens and client IPs (raw request logs)' })
  @ApiQuery({ name: 'range', required: false, enum: Object.keys(TOP_RANGES) })
  async top(@Param('id', new ParseUUIDPipe()) id: string, @Query() query: TopQuery) {
    const [top, names] = await Promise.all([
      this.usage.top(id, query.range ?? '24h'),
      this.accounts.tokenNames(id),
      this.accounts.assertExists(id),
    ]);
    return { ...top, tokens: top.tokens.map((t) => ({ ...t, label: names.get(t.key) ?? t.key })) };
  }

  @Post(':id/restrictions')
  @MinRole('OPERATOR')
  @HttpCode(200)
  @ApiOperation({ summary: 'Apply a restriction to the account, through the enforcer' })
  apply(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ApplyRestrictionDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.actions.applyRestriction(id, body, principal, context).then((result) => ({ ok: true, result }));
  }
}
