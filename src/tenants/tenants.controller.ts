import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth/auth-context.js';
import { BearerAuth, Roles } from '../common/auth/auth.decorators.js';
import { ApiErrors } from '../common/http/api-errors.decorator.js';
import { TenantResponseDto } from './dto/tenant-response.dto.js';
import { RotateWebhookApiKeyDto, WebhookApiKeyResponseDto } from './dto/webhook-api-key.dto.js';
import { TenantsService } from './tenants.service.js';

@ApiTags('tenants')
@BearerAuth()
@Controller('tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get('current')
  @ApiOperation({ summary: 'Your tenant' })
  @ApiOkResponse({ type: TenantResponseDto })
  getCurrent(@Auth() auth: AuthContext): Promise<TenantResponseDto> {
    return this.tenants.getCurrent(auth);
  }

  @Post('current/webhook-api-key')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({
    summary: 'Generate or rotate the inbound webhook API key (admin)',
    description:
      'Returns the new key once (send it as X-API-Key with X-Tenant-ID to POST /api/webhooks/{event_name}). ' +
      'Only a hash is stored. The previous key keeps working for grace_seconds (default 0).',
  })
  @ApiOkResponse({ type: WebhookApiKeyResponseDto })
  @ApiErrors(400)
  rotateWebhookApiKey(@Auth() auth: AuthContext, @Body() dto: RotateWebhookApiKeyDto): Promise<WebhookApiKeyResponseDto> {
    return this.tenants.rotateWebhookApiKey(auth.tenantId, dto.grace_seconds ?? 0);
  }
}
