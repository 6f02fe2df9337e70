import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsISO8601, IsObject, IsOptional, Max, Min } from 'class-validator';

export class BacktestRequestDto {
  @ApiProperty({ example: '2026-11-20T00:00:00Z' })
  @IsISO8601()
  from!: string;

  @ApiProperty({ example: '2026-11-21T00:00:00Z' })
  @IsISO8601()
  to!: string;

  @ApiPropertyOptional({ example: 5, description: 'Minutes between simulated cycles' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60)
  stepMinutes?: number;

  @ApiProperty({ description: 'The rule set to try: a detection config (partial; defaults fill the rest)' })
  @IsObject()
  rules!: Record<string, unknown>;
}
