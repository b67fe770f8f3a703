import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { digestsEqual, displayPrefix, generateToken, sha256Hex, TOKEN_PREFIX } from '../../../common/crypto/tokens.js';
import { AppError } from '../../../common/errors/app-error.js';
import { sql } from '../../../database/sql.js';
import { Tenant } from '../../../tenants/tenant.entity.js';
import type { WebhookApiKeyResponseDto } from './webhook-api-key.dto.js';

type CachedKeys = Pick<Tenant, 'webhookApiKeyHash' | 'previousWebhookApiKeyHash' | 'previousWebhookApiKeyExpiresAt'>;

const KEY_CACHE_MS = 5_000;
const KEY_CACHE_SIZE = 10_000;

/**
 * A tenant's inbound webhook API key (X-API-Key, checked by InboundAuthGuard): rotation with a grace period
 * for the previous key, only hashes stored, constant-time checks, and a short cache of the hashes for the
 * inbound hot path. Also used by the CLI (`tenant:api-key`), outside Nest.
 */
@Injectable()
export class InboundApiKeys {
  private readonly keyCache = new Map<string, { keys: CachedKeys | null; fetchedAt: number }>();
  /** Counts rotations made by this instance, so a cache fill racing one is not kept. */
  private rotations = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Generates a new inbound webhook API key and returns it once. The previous key stays valid for
   * `graceSeconds` so running workflows can be switched over.
   */
  async rotate(tenantId: string, graceSeconds: number): Promise<WebhookApiKeyResponseDto> {
    const apiKey = generateToken(TOKEN_PREFIX.webhookApiKey);
    const prefix = displayPrefix(apiKey);
    const { rows } = await sql<{ created_at: Date; previous_webhook_api_key_expires_at: Date | null }>(
      this.dataSource,
      `UPDATE tenants SET
         previous_webhook_api_key_hash = CASE WHEN $3::int > 0 THEN webhook_api_key_hash END,
         previous_webhook_api_key_expires_at = CASE WHEN $3::int > 0 AND webhook_api_key_hash IS NOT NULL
           THEN now() + make_interval(secs => $3::int) END,
         webhook_api_key_hash = $2,
         webhook_api_key_prefix = $4,
         webhook_api_key_created_at = now(),
         updated_at = now()
       WHERE id = $1
       RETURNING webhook_api_key_created_at AS created_at, previous_webhook_api_key_expires_at`,
      [tenantId, sha256Hex(apiKey), graceSeconds, prefix],
    );
    const [updated] = rows;
    if (!updated) throw new AppError('TENANT_NOT_FOUND', `Tenant ${tenantId} not found`);
    this.rotations += 1;
    this.keyCache.delete(tenantId);
    return {
      tenant_id: tenantId,
      api_key: apiKey,
      prefix,
      created_at: new Date(updated.created_at).toISOString(),
      previous_key_expires_at: updated.previous_webhook_api_key_expires_at
        ? new Date(updated.previous_webhook_api_key_expires_at).toISOString()
        : null,
    };
  }

  /**
   * True when `apiKey` is the tenant's current key, or its previous key within the grace period. Constant-time.
   * The key hashes are cached for a few seconds (the inbound hot path); a rotation here drops the cache at
   * once, one on another instance is seen within KEY_CACHE_MS.
   */
  async verify(tenantId: string, apiKey: string): Promise<boolean> {
    const tenant = await this.keysOf(tenantId);
    const presented = sha256Hex(apiKey);
    const current = tenant?.webhookApiKeyHash ? digestsEqual(presented, tenant.webhookApiKeyHash) : false;
    const previous =
      tenant?.previousWebhookApiKeyHash && tenant.previousWebhookApiKeyExpiresAt && tenant.previousWebhookApiKeyExpiresAt > new Date()
        ? digestsEqual(presented, tenant.previousWebhookApiKeyHash)
        : false;
    return current || previous;
  }

  private async keysOf(tenantId: string): Promise<CachedKeys | null> {
    const cached = this.keyCache.get(tenantId);
    if (cached && cached.fetchedAt > Date.now() - KEY_CACHE_MS) return cached.keys;
    const started = this.rotations;
    const tenant = await this.dataSource.getRepository(Tenant).findOne({
      where: { id: tenantId },
      select: { id: true, webhookApiKeyHash: true, previousWebhookApiKeyHash: true, previousWebhookApiKeyExpiresAt: true },
    });
    // A rotation that happened while this read was under way may have made it stale: use it, don't keep it.
    if (started !== this.rotations) return tenant;
    if (this.keyCache.size >= KEY_CACHE_SIZE) this.keyCache.clear();
    this.keyCache.set(tenantId, { keys: tenant, fetchedAt: Date.now() });
    return tenant;
  }

}
