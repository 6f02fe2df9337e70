import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

export class ApplyRestrictionDto {
  @ApiProperty({ enum: ['notify', 'throttle', 'block'] })
  @IsIn(['notify', 'throttle', 'block'])
  mode!: 'notify' | 'throttle' | 'block';

  @ApiProperty({ enum: ['account', 'token', 'ip', 'route'], default: 'account' })
  @IsIn(['account', 'token', 'ip', 'route'])
  scope!: 'account' | 'token' | 'ip' | 'route';

  @ApiPropertyOptional({ description: 'token id, IP or route template; required unless the scope is account' })
  @ValidateIf((o: ApplyRestrictionDto) => o.scope !== 'account')
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  scopeValue?: string;

  @ApiPropertyOptional({ description: 'share of the plan limits left while throttled (0 < f < 1)', example: 0.5 })
  @ValidateIf((o: ApplyRestrictionDto) => o.mode === 'throttle')
  @IsNumber()
  @Min(0.01)
  @Max(0.99)
  throttleFactor?: number;

  @ApiProperty({ enum: [429, 503], default: 429 })
  @IsIn([429, 503])
  statusCode!: 429 | 503;

  @ApiProperty({ example: 'sustained_excess' })
  @Matches(/^[a-z][a-z0-9_]{1,63}$/)
  reasonCode!: string;

  @ApiProperty({ description: 'seconds; one minute to 30 days', example: 3600 })
  @IsInt()
  @Min(60)
  @Max(30 * 86_400)
  durationSeconds!: number;

  @ApiPropertyOptional({ description: 'the flag this restriction answers' })
  @IsOptional()
  @IsUUID()
  flagId?: string;

  @ApiProperty()
  @IsString()
  @MinLength(3)
  @MaxLength(500)
  reason!: string;
}

export class ExtendRestrictionDto {
  @ApiProperty({ description: 'new expiry (ISO 8601), later than the current one' })
  @IsISO8601({ strict: true })
  expiresAt!: string;

  @ApiProperty()
  @IsString()
  @MinLength(3)
  @MaxLength(500)
  reason!: string;
}

export class LiftRestrictionDto {
  @ApiProperty()
  @IsString()
  @MinLength(3)
  @MaxLength(500)
  reason!: string;
}
