import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { isIP } from 'node:net';

export const RULE_SCOPES = ['TOKEN', 'ACCOUNT', 'IP', 'ROUTE', 'PLAN'] as const;
export const FAIL_MODES = ['OPEN', 'CLOSED', 'LOCAL'] as const;
export const ERROR_STYLES = ['NESTJS', 'DETAIL', 'PROBLEM_JSON'] as const;

/** "10.0.0.0/8", "2001:db8::/32" or a single address. */
@ValidatorConstraint({ name: 'cidr' })
class IsCidrConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    const [address, bits, extra] = value.split('/');
    if (extra !== undefined || !address) return false;
    const family = isIP(address);
    if (family === 0) return false;
    if (bits === undefined) return true;
    if (!/^\d{1,3}$/.test(bits)) return false;
    return Number(bits) <= (family === 4 ? 32 : 128);
  }

  defaultMessage(): string {
    return 'each value in cidrs must be an IP address or CIDR block';
  }
}

export class LimitWindowDto {
  @ApiProperty({ example: 60 })
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  limit!: number;

  @ApiProperty({ example: 60 })
  @IsInt()
  @Min(1)
  @Max(31 * 86_400)
  seconds!: number;

  @ApiPropertyOptional({ description: 'aligned to the clock (calendar windows) rather than sliding' })
  @IsOptional()
  @IsBoolean()
  aligned?: boolean;
}

export class LimitRuleDto {
  @ApiProperty({ description: 'the plan version this edit was made against (409 when it changed since)' })
  @IsInt()
  @Min(1)
  expectedVersion!: number;

  @ApiProperty({ example: 'per-token-minute' })
  @Matches(/^[\w .:-]{1,80}$/)
  name!: string;

  @ApiProperty({ enum: RULE_SCOPES })
  @IsIn(RULE_SCOPES)
  scope!: (typeof RULE_SCOPES)[number];

  @ApiProperty({ type: [String], example: ['POST /v1/licenses/validate'] })
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(/^((GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\*) )?\/[^\s]{0,200}$/, {
    each: true,
    message: 'each route must look like "POST /v1/things/:id" or "/v1/things"',
  })
  routes!: string[];

  @ApiProperty({ type: [String], example: [] })
  @IsArray()
  @ArrayMaxSize(50)
  @Validate(IsCidrConstraint, { each: true })
  cidrs!: string[];

  @ApiProperty({ type: [LimitWindowDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  @Type(() => LimitWindowDto)
  windows!: LimitWindowDto[];

  @ApiProperty({ default: 1 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  cost!: number;

  @ApiPropertyOptional({ nullable: true, description: 'maximum requests in flight per key' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  concurrency?: number | null;

  @ApiProperty({ enum: FAIL_MODES })
  @IsIn(FAIL_MODES)
  failMode!: (typeof FAIL_MODES)[number];

  @ApiProperty() @IsBoolean() shadow!: boolean;
  @ApiProperty() @IsBoolean() countLimited!: boolean;
  @ApiProperty() @IsBoolean() enabled!: boolean;

  @ApiProperty({ default: 0 })
  @IsInt()
  @Min(0)
  @Max(1000)
  position!: number;
}

export class UpdatePlanDto {
  @ApiProperty({ description: 'the plan version this edit was made against (409 when it changed since)' })
  @IsInt()
  @Min(1)
  expectedVersion!: number;

  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(100) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() apiAccess?: boolean;

  @ApiPropertyOptional({ enum: ERROR_STYLES })
  @IsOptional()
  @IsIn(ERROR_STYLES)
  errorStyle?: (typeof ERROR_STYLES)[number];

  @ApiPropertyOptional({ enum: [429, 503] })
  @IsOptional()
  @IsIn([429, 503])
  limitStatusCode?: 429 | 503;

  @ApiPropertyOptional({ description: 'cold-start prior, requests per minute' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10_000_000)
  priorPerMinute?: number;
}

export class DeleteRuleQuery {
  @ApiProperty()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  expectedVersion!: number;
}
