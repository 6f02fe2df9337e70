import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';
import { type OpsPrincipal } from '../auth/auth.types';

export class LoginDto {
  @ApiProperty({ example: 'admin@usageguard.local' })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'usageguard-demo' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  password!: string;
}

export class SessionUserDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['VIEWER', 'OPERATOR', 'ADMIN'] }) role!: string;
}

export class SessionDto {
  @ApiProperty({ type: SessionUserDto }) user!: SessionUserDto;
  @ApiProperty({ description: 'Send back in the X-CSRF-Token header on every POST, PUT, PATCH and DELETE.' })
  csrfToken!: string;
  @ApiProperty() expiresAt?: string;
}

export const toSessionDto = (principal: OpsPrincipal, expiresAt?: Date): SessionDto => ({
  user: { id: principal.userId, email: principal.email, name: principal.name, role: principal.role },
  csrfToken: principal.csrfToken,
  expiresAt: expiresAt?.toISOString(),
});
