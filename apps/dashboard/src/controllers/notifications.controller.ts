import { Body, HttpCode, Inject, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MinRole, OpsController, Principal } from '../auth/auth.decorators';
import { type OpsPrincipal } from '../auth/auth.types';
import { Context, type RequestContext } from '../auth/request-context';
import { ResendNotificationDto } from '../dtos/notifications.dto';
import { ActionsService } from '../services/actions.service';

@OpsController('notifications', 'notifications')
export class NotificationsController {
  constructor(@Inject(ActionsService) private readonly actions: ActionsService) {}

  @Post(':id/resend')
  @MinRole('OPERATOR')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a held email again (to the account’s current contacts, same Message-ID), through the enforcer',
  })
  resend(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ResendNotificationDto,
    @Principal() principal: OpsPrincipal,
    @Context() context: RequestContext,
  ) {
    return this.actions.resendNotification(id, body, principal, context).then((result) => ({ ok: true, result }));
  }
}
