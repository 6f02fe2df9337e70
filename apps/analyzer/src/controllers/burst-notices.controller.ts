import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { BurstNoticesService } from '../services/burst-notices.service';
import {
  BurstNoticeListQuery,
  type BurstNoticeResponse,
  CreateBurstNoticeDto,
  toBurstNoticeResponse,
} from './burst-notices.dto';
import { type CustomerRequest, CustomerTokenGuard } from './customer-token.guard';

/** Customers announce planned bursts with their own API token; ops review them in the dashboard. */
@ApiTags('burst notices')
@ApiBearerAuth()
@UseGuards(CustomerTokenGuard)
@Controller('v1/burst-notices')
export class BurstNoticesController {
  constructor(@Inject(BurstNoticesService) private readonly notices: BurstNoticesService) {}

  @Post()
  async create(@Req() request: CustomerRequest, @Body() body: CreateBurstNoticeDto): Promise<BurstNoticeResponse> {
    return toBurstNoticeResponse(await this.notices.create(request.customer!, body));
  }

  @Get()
  async list(@Req() request: CustomerRequest, @Query() query: BurstNoticeListQuery): Promise<BurstNoticeResponse[]> {
    return (await this.notices.list(request.customer!.accountId, query.status)).map(toBurstNoticeResponse);
  }

  @Get(':id')
  async get(@Req() request: CustomerRequest, @Param('id', ParseUUIDPipe) id: string): Promise<BurstNoticeResponse> {
    return toBurstNoticeResponse(await this.notices.get(request.customer!.accountId, id));
  }

  @Delete(':id')
  @HttpCode(200)
  async cancel(@Req() request: CustomerRequest, @Param('id', ParseUUIDPipe) id: string): Promise<BurstNoticeResponse> {
    return toBurstNoticeResponse(await this.notices.cancel(request.customer!, id));
  }
}
