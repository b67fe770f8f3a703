import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../../../common/auth/auth-context.js';
import { BearerAuth, Roles } from '../../../common/auth/auth.decorators.js';
import { ApiErrors } from '../../../common/http/api-errors.decorator.js';
import { InboundApiKeys } from './inbound-api-keys.js';
import { RotateWebhookApiKeyDto, WebhookApiKeyResponseDto } from './webhook-api-key.dto.js';

/** The tenant's inbound webhook API key, under the tenant's routes. */
@ApiTags('tenants')
@BearerAuth()
@Controller('tenants')
export class InboundApiKeyController {
  constructor(private readonly keys: InboundApiKeys) {}

  @Post('current/webhook-api-key')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({
    // The id it had before the route moved here, so clients generated from the document keep their method names.
    operationId: 'TenantsController_rotateWebhookApiKey',
    summary: 'Generate or rotate the inbound webhook API key (admin)',
    description:
      'Returns the new key once (send it as X-API-Key with X-Tenant-ID to POST /api/webhooks/{event_name}). ' +
      'Only a hash is stored. The previous key keeps working for grace_seconds (default 0).',
  })
  @ApiOkResponse({ type: WebhookApiKeyResponseDto })
  @ApiErrors(400)
  rotateWebhookApiKey(@Auth() auth: AuthContext, @Body() dto: RotateWebhookApiKeyDto): Promise<WebhookApiKeyResponseDto> {
    return this.keys.rotate(auth.tenantId, dto.grace_seconds ?? 0);
  }
}
