import { Body, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MinRole, OpsController, Principal } from '../auth/auth.decorators';
import { type OpsPrincipal } from '../auth/auth.types';
import { Context, type RequestContext } from '../auth/request-context';
import { BurstNoticeListQuery, ReviewBurstNoticeDto } from '../dtos/burst-notices.dto';
import { BurstNoticesService } from '../services/burst-notices.service';

@OpsController('burst-notices', 'burst notices')
export class BurstNoticesController {
  constructor(@Inject(BurstNoticesService) private readonly notices: BurstNoticesService) {}

  @Get()
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Burst notices by status, each with its account history' })
  list(@Query() query: BurstNoticeListQuery) {
    return this.notices.list(query);
  }

  @Post(':id/review')
  @MinRole('OPERATOR')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve or reject a pending burst notice' })
  review(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ReviewBurstNoticeDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.notices.review(id, body, principal, context);
  }
}
