import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export const BURST_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED'] as const;

export class BurstNoticeListQuery {
  @ApiPropertyOptional({ enum: BURST_STATUSES, default: 'PENDING' })
  @IsOptional()
  @IsIn(BURST_STATUSES)
  status?: (typeof BURST_STATUSES)[number];
}

export class ReviewBurstNoticeDto {
  @ApiProperty({ enum: ['approve', 'reject'] })
  @IsIn(['approve', 'reject'])
  decision!: 'approve' | 'reject';

  @ApiProperty({ description: 'shown in the audit log', default: '' })
  @IsString()
  @MaxLength(500)
  note!: string;
}
