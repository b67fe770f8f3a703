import { ApiProperty } from '@nestjs/swagger';
import type { Tenant } from '../tenant.entity.js';

export class TenantSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Acme Ltd' })
  name: string;
}

export class TenantResponseDto extends TenantSummaryDto {
  @ApiProperty({ description: 'Whether an inbound webhook API key has been generated' })
  webhook_api_key_set: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'First characters of the current inbound key, to tell keys apart', example: 'jck_9f3Kx2Lm' })
  webhook_api_key_prefix: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  webhook_api_key_created_at: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  updated_at: string;

  static from(tenant: Tenant): TenantResponseDto {
    return {
      id: tenant.id,
      name: tenant.name,
      webhook_api_key_set: tenant.webhookApiKeyHash !== null,
      webhook_api_key_prefix: tenant.webhookApiKeyPrefix,
      webhook_api_key_created_at: tenant.webhookApiKeyCreatedAt?.toISOString() ?? null,
      created_at: tenant.createdAt.toISOString(),
      updated_at: tenant.updatedAt.toISOString(),
    };
  }
}
