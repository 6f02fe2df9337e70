import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class ResendNotificationDto {
  @ApiProperty({ description: 'what the mail log showed, for the audit log', example: 'not in the relay log' })
  @IsString()
  @MinLength(3)
  @MaxLength(500)
  reason!: string;
}
