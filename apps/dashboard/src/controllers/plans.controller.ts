import { Body, Delete, Get, Inject, Param, ParseUUIDPipe, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MinRole, OpsController, Principal } from '../auth/auth.decorators';
import { type OpsPrincipal } from '../auth/auth.types';
import { Context, type RequestContext } from '../auth/request-context';
import { DeleteRuleQuery, LimitRuleDto, UpdatePlanDto } from '../dtos/plans.dto';
import { PlansService } from '../services/plans.service';

@OpsController('plans', 'plans')
export class PlansController {
  constructor(@Inject(PlansService) private readonly plans: PlansService) {}

  @Get()
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Plans with their limit rules' })
  list() {
    return this.plans.list();
  }

  @Patch(':id')
  @MinRole('ADMIN')
  @ApiOperation({ summary: 'Edit a plan (bumps its version: edges reload it)' })
  update(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: UpdatePlanDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.plans.updatePlan(id, body, principal, context);
  }

  @Post(':id/rules')
  @MinRole('ADMIN')
  @ApiOperation({ summary: 'Add a limit rule to a plan' })
  createRule(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: LimitRuleDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.plans.createRule(id, body, principal, context);
  }

  @Put(':id/rules/:ruleId')
  @MinRole('ADMIN')
  @ApiOperation({ summary: 'Replace a limit rule' })
  updateRule(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('ruleId', new ParseUUIDPipe()) ruleId: string,
    @Body() body: LimitRuleDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.plans.updateRule(id, ruleId, body, principal, context);
  }

  @Delete(':id/rules/:ruleId')
  @MinRole('ADMIN')
  @ApiOperation({ summary: 'Delete a limit rule' })
  deleteRule(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('ruleId', new ParseUUIDPipe()) ruleId: string,
    @Query() query: DeleteRuleQuery,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.plans.deleteRule(id, ruleId, query.expectedVersion, principal, context);
  }
}
