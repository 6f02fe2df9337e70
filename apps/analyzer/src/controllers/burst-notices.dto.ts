import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { type BurstNotice } from '@usageguard/database';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

/** A planned burst (seed 000): volume, duration or end, window with time zone, endpoints, business context. */
export class CreateBurstNoticeDto {
  @ApiProperty({
    example: '2026-12-01T09:00',
    description: 'Start of the window: local time in `timezone`, or ISO-8601 with an offset',
  })
  @IsString()
  @MaxLength(40)
  startsAt!: string;

  @ApiPropertyOptional({ example: '2026-12-01T13:00', description: 'End of the window (or give durationMinutes)' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  endsAt?: string;

  @ApiPropertyOptional({ example: 240, description: 'Duration in minutes (when endsAt is not given)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 60)
  durationMinutes?: number;

  @ApiProperty({ example: 'Europe/Paris', description: 'IANA time zone the window is stated in' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  timezone!: string;

  @ApiPropertyOptional({ example: 2000, description: 'Expected requests per minute' })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedPerMinute?: number;

  @ApiPropertyOptional({ example: 100000, description: 'Expected requests per hour' })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedPerHour?: number;

  @ApiPropertyOptional({ example: ['POST /v1/import'], description: 'Route templates concerned (empty: all)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(/^(?:[A-Z]+ )?\/\S*$/, { each: true, message: 'each endpoint must look like "POST /v1/path"' })
  endpoints?: string[];

  @ApiPropertyOptional({ example: 'Quarterly reconciliation run', description: 'Business context' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  context?: string;
}

export class BurstNoticeListQuery {
  @ApiPropertyOptional({ enum: ['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED'] })
  @IsOptional()
  @IsIn(['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED'])
  status?: BurstNotice['status'];
}

export class BurstNoticeResponse {
  @ApiProperty() id!: string;
  @ApiProperty() status!: string;
  @ApiProperty() startsAt!: string;
  @ApiProperty() endsAt!: string;
  @ApiProperty() timezone!: string;
  @ApiProperty({ nullable: true, type: Number }) expectedPerMinute!: number | null;
  @ApiProperty({ nullable: true, type: Number }) expectedPerHour!: number | null;
  @ApiProperty({ type: [String] }) endpoints!: string[];
  @ApiProperty() context!: string;
  @ApiProperty({ description: 'Submitted less than 48 hours before the window' }) late!: boolean;
  @ApiProperty({ nullable: true, type: String }) reviewNote!: string | null;
  @ApiProperty() createdAt!: string;
}

export function toBurstNoticeResponse(n: BurstNotice): BurstNoticeResponse {
  return {
    id: n.id,
    status: n.status,
    startsAt: n.startsAt.toISOString(),
    endsAt: n.endsAt.toISOString(),
    timezone: n.timezone,
    expectedPerMinute: n.expectedPerMinute,
    expectedPerHour: n.expectedPerHour,
    endpoints: n.endpoints,
    context: n.context,
    late: n.late,
    reviewNote: n.reviewNote,
    createdAt: n.createdAt.toISOString(),
  };
}
