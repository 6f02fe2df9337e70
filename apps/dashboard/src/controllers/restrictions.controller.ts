import { Body, HttpCode, Inject, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MinRole, OpsController, Principal } from '../auth/auth.decorators';
import { type OpsPrincipal } from '../auth/auth.types';
import { Context, type RequestContext } from '../auth/request-context';
import { ExtendRestrictionDto, LiftRestrictionDto } from '../dtos/restrictions.dto';
import { ActionsService } from '../services/actions.service';

@OpsController('restrictions', 'restrictions')
export class RestrictionsController {
  constructor(@Inject(ActionsService) private readonly actions: ActionsService) {}

  @Post(':id/extend')
  @MinRole('OPERATOR')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move the expiry of an active restriction later, through the enforcer' })
  extend(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ExtendRestrictionDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.actions.extendRestriction(id, body, principal, context).then((result) => ({ ok: true, result }));
  }

  @Post(':id/lift')
  @MinRole('OPERATOR')
  @HttpCode(200)
  @ApiOperation({ summary: 'Lift a restriction now, through the enforcer' })
  lift(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: LiftRestrictionDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.actions.liftRestriction(id, body, principal, context).then((result) => ({ ok: true, result }));
  }
}
