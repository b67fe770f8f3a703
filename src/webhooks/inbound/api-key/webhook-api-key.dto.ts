import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_GRACE_SECONDS = 7 * 24 * 3600;

export class RotateWebhookApiKeyDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: MAX_GRACE_SECONDS,
    default: 0,
    description: 'How long the previous key keeps working, so workflows can be switched over without downtime',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'grace_seconds must be a whole number of seconds' })
  @Min(0)
  @Max(MAX_GRACE_SECONDS)
  grace_seconds?: number;
}

export class WebhookApiKeyResponseDto {
  @ApiProperty({ format: 'uuid', description: 'Send as X-Tenant-ID' })
  tenant_id: string;

  @ApiProperty({ description: 'Send as X-API-Key. Shown only this once; only its hash is stored.', example: 'jck_9f3Kx2LmQ...' })
  api_key: string;

  @ApiProperty({ example: 'jck_9f3Kx2Lm' })
  prefix: string;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Until when the previous key is still accepted' })
  previous_key_expires_at: string | null;
}
