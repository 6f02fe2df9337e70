import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CommaList } from './query.transforms';

export const FLAG_KINDS = [
  'SUSTAINED_EXCESS',
  'LIMIT_PRESSURE',
  'ERROR_STORM',
  'ENDPOINT_HAMMERING',
  'TOKEN_SPREAD',
] as const;
export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export const FLAG_STATUSES = ['OPEN', 'RESOLVED', 'DISMISSED'] as const;
export const FLAG_SORTS = ['severity', 'age', 'score', 'lastSeen'] as const;

export class FlagListQuery {
  @ApiPropertyOptional({ enum: FLAG_STATUSES, default: 'OPEN' })
  @IsOptional()
  @IsIn(FLAG_STATUSES)
  status?: (typeof FLAG_STATUSES)[number];

  @ApiPropertyOptional({ description: 'comma-separated', example: 'HIGH,CRITICAL' })
  @IsOptional()
  @CommaList()
  @IsArray()
  @IsIn(SEVERITIES, { each: true })
  severity?: (typeof SEVERITIES)[number][];

  @ApiPropertyOptional({ description: 'comma-separated', example: 'SUSTAINED_EXCESS' })
  @IsOptional()
  @CommaList()
  @IsArray()
  @IsIn(FLAG_KINDS, { each: true })
  kind?: (typeof FLAG_KINDS)[number][];

  @ApiPropertyOptional({ description: 'plan key' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  plan?: string;

  @ApiPropertyOptional({ description: 'account name or external id contains' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;

  @ApiPropertyOptional({ description: 'only flags first seen at least this many hours ago' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(24 * 365)
  olderThanHours?: number;

  @ApiPropertyOptional({ enum: FLAG_SORTS, default: 'severity' })
  @IsOptional()
  @IsIn(FLAG_SORTS)
  sort?: (typeof FLAG_SORTS)[number];

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';

  @ApiPropertyOptional({ default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100_000)
  offset?: number;
}

export class ReviewFlagDto {
  @ApiProperty({ enum: ['approve', 'dismiss'] })
  @IsIn(['approve', 'dismiss'])
  decision!: 'approve' | 'dismiss';

  @ApiProperty({ example: 'confirmed with the customer: scraping job gone wrong' })
  @IsString()
  @MinLength(3)
  @MaxLength(500)
  reason!: string;
}
