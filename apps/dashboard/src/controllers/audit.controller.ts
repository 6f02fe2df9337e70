import { Get, Inject, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MinRole, OpsController } from '../auth/auth.decorators';
import { AuditQuery } from '../dtos/audit.dto';
import { AuditService } from '../services/audit.service';

@OpsController('audit', 'audit')
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get()
  @MinRole('VIEWER')
  @ApiOperation({ summary: 'Audit log, newest first, with filters and an id cursor' })
  list(@Query() query: AuditQuery) {
    return this.audit.list(query);
  }
}
