import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsEmail, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PageDto } from '../../common/http/pagination.js';
import { TenantSummaryDto } from '../../tenants/dto/tenant-response.dto.js';
import { trimmed } from '../../common/http/transforms.js';
import { PASSWORD_MIN_LENGTH } from '../../users/dto/create-user.dto.js';
import { UserResponseDto } from '../../users/dto/user-response.dto.js';

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trimmed)
  @IsEmail({}, { message: 'email must be an email address such as ada@example.com' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, example: 'correct horse battery staple' })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `password must be at least ${PASSWORD_MIN_LENGTH} characters long` })
  @MaxLength(200)
  password: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'Acme Ltd', description: 'The new tenant (workspace) this user will administer' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1, { message: 'tenant_name must not be empty' })
  @MaxLength(200)
  tenant_name: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trimmed)
  @IsEmail({}, { message: 'email must be an email address such as ada@example.com' })
  email: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @MinLength(1, { message: 'password must not be empty' })
  @MaxLength(200)
  password: string;
}

export class SessionResponseDto {
  @ApiProperty({ description: 'Send as "Authorization: Bearer <token>"', example: 'jcs_4yX…' })
  token: string;

  @ApiProperty({ format: 'date-time' })
  expires_at: string;

  @ApiProperty({ type: UserResponseDto })
  user: UserResponseDto;
}

export class RegisterResponseDto extends SessionResponseDto {
  @ApiProperty({ type: TenantSummaryDto })
  tenant: TenantSummaryDto;
}

export class MeResponseDto extends UserResponseDto {
  @ApiProperty({ type: TenantSummaryDto })
  tenant: TenantSummaryDto;
}

export class CreateApiTokenDto {
  @ApiProperty({ example: 'n8n production', description: 'What the token is for, to recognise it in the list' })
  @Transform(trimmed)
  @IsString()
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(100)
  name: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 3650, description: 'Omit for a token that never expires' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'expires_in_days must be a whole number of days' })
  @Min(1)
  @Max(3650)
  expires_in_days?: number;
}

export class ApiTokenResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'n8n production' })
  name: string;

  @ApiProperty({ example: 'jct_Q2x9LmZ0', description: 'First characters of the token, to tell tokens apart' })
  prefix: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_used_at: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;
}

export class CreatedApiTokenResponseDto extends ApiTokenResponseDto {
  @ApiProperty({ description: 'The token itself, shown only this once', example: 'jct_Q2x9LmZ0…' })
  token: string;
}

export class ApiTokenListDto extends PageDto<ApiTokenResponseDto> {
  @ApiProperty({ type: [ApiTokenResponseDto] })
  declare data: ApiTokenResponseDto[];
}
