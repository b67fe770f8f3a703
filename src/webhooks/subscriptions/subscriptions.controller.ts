import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Auth, type AuthContext } from '../../common/auth/auth-context.js';
import { BearerAuth, Roles } from '../../common/auth/auth.decorators.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { UuidParam } from '../../common/http/uuid-param.js';
import {
  CreateSubscriptionDto,
  ListSubscriptionsQueryDto,
  SecretResponseDto,
  SubscriptionPageDto,
  SubscriptionResponseDto,
  SubscriptionWithSecretDto,
  UpdateSubscriptionDto,
} from './dto/subscription.dto.js';
import { SubscriptionsService } from './subscriptions.service.js';

@ApiTags('subscriptions')
@BearerAuth()
@Controller('webhooks/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary: 'Subscribe a URL to an event (admin)',
    description:
      'Returns the subscription with its signing `secret`. Registering the same event_name and target_url again ' +
      'returns the existing subscription (200, with its secret) instead of creating a twin, after applying what the ' +
      'request states (description, headers, enabled; omitted fields stay as they are). enabled true or omitted ' +
      're-enables a disabled subscription: n8n and Activepieces re-register when a workflow is activated again.',
  })
  @ApiCreatedResponse({ type: SubscriptionWithSecretDto, description: 'Created' })
  @ApiOkResponse({ type: SubscriptionWithSecretDto, description: 'Already existed (same event_name and target_url); updated with the request\'s fields' })
  @ApiErrors(400, 'TARGET_NOT_ALLOWED')
  async create(@Auth() auth: AuthContext, @Body() dto: CreateSubscriptionDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<SubscriptionWithSecretDto> {
    const { created, subscription } = await this.subscriptions.create(auth, dto);
    void reply.status(created ? 201 : 200);
    return subscription;
  }

  @Get()
  @ApiOperation({ summary: 'List subscriptions (filters event_name, target_url, enabled); secrets are never listed' })
  @ApiOkResponse({ type: SubscriptionPageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthContext, @Query() query: ListSubscriptionsQueryDto): Promise<SubscriptionPageDto> {
    return this.subscriptions.list(auth, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a subscription (without its secret)' })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiErrors(400, 'SUBSCRIPTION_NOT_FOUND')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<SubscriptionResponseDto> {
    return this.subscriptions.get(auth, id);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Change a subscription (admin); enabling it again clears its disabled_reason' })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiErrors(400, 'SUBSCRIPTION_NOT_FOUND', 'SUBSCRIPTION_TARGET_TAKEN')
  update(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: UpdateSubscriptionDto): Promise<SubscriptionResponseDto> {
    return this.subscriptions.update(auth, id, dto);
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a subscription and its delivery log (admin)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 'SUBSCRIPTION_NOT_FOUND')
  remove(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<void> {
    return this.subscriptions.remove(auth, id);
  }

  @Get(':id/secret')
  @Roles('admin')
  @ApiOperation({ summary: 'The signing secret (admin), and the previous one while a rotation lasts' })
  @ApiOkResponse({ type: SecretResponseDto })
  @ApiErrors(400, 'SUBSCRIPTION_NOT_FOUND')
  secret(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<SecretResponseDto> {
    return this.subscriptions.getSecret(auth, id);
  }

  @Post(':id/rotate-secret')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate the signing secret (admin); the old one keeps signing beside it for 24 h' })
  @ApiOkResponse({ type: SecretResponseDto })
  @ApiErrors(400, 'SUBSCRIPTION_NOT_FOUND')
  rotateSecret(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<SecretResponseDto> {
    return this.subscriptions.rotateSecret(auth, id);
  }
}
