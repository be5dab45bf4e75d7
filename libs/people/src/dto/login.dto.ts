import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ maxLength: 320 })
  @IsString()
  @MaxLength(320)
  email: string;

  @ApiProperty({ maxLength: 1024, format: 'password' })
  @IsString()
  @MaxLength(1024)
  password: string;

  /** The console page to return to after a form sign-in (a path under /console). */
  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  next?: string;
}

export class SessionDto {
  @ApiProperty({ format: 'uuid' })
  userId: string;

  @ApiProperty({ format: 'uuid' })
  tenantId: string;

  @ApiProperty({ enum: ['owner', 'admin', 'approver', 'member', 'viewer'] })
  role: string;

  @ApiProperty({ description: 'Send as X-CSRF-Token on every change made with the cookie' })
  csrfToken: string;

  @ApiProperty({ description: 'Seconds until the absolute end of the session' })
  expiresIn: number;
}
