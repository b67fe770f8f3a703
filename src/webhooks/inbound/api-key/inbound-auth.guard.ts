import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../../common/errors/app-error.js';
import { InboundApiKeys } from './inbound-api-keys.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface InboundRequest {
  inboundTenantId?: string;
}

/**
 * Authenticates inbound webhooks by X-Tenant-ID + X-API-Key. Whatever is wrong (missing header, unknown
 * tenant, wrong or expired key) the answer is the same 401, so it reveals nothing about tenants.
 */
@Injectable()
export class InboundAuthGuard implements CanActivate {
  constructor(private readonly keys: InboundApiKeys) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & InboundRequest>();
    const tenantId = request.headers['x-tenant-id'];
    const apiKey = request.headers['x-api-key'];
    const valid =
      typeof tenantId === 'string' &&
      typeof apiKey === 'string' &&
      UUID.test(tenantId) &&
      (await this.keys.verify(tenantId.toLowerCase(), apiKey));
    if (!valid) {
      throw new AppError('INBOUND_UNAUTHORIZED', 'Send your tenant id as X-Tenant-ID and its inbound API key as X-API-Key (POST /api/tenants/current/webhook-api-key)');
    }
    // One spelling per tenant, so the rate limiter and the key cache cannot be sidestepped by letter case.
    request.inboundTenantId = (tenantId as string).toLowerCase();
    return true;
  }
}
