import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../common/auth/auth-context.js';
import { digestsEqual, displayPrefix, generateToken, sha256Hex, TOKEN_PREFIX } from '../common/crypto/tokens.js';
import { Tenant } from './tenant.entity.js';
import { TenantResponseDto } from './dto/tenant-response.dto.js';
import type { WebhookApiKeyResponseDto } from './dto/webhook-api-key.dto.js';
import { AppError } from '../common/errors/app-error.js';

type CachedKeys = Pick<Tenant, 'webhookApiKeyHash' | 'previousWebhookApiKeyHash' | 'previousWebhookApiKeyExpiresAt'>;

const KEY_CACHE_MS = 5_000;
const KEY_CACHE_SIZE = 10_000;

@Injectable()
export class TenantsService {
  private readonly keyCache = new Map<string, { keys: CachedKeys | null; fetchedAt: number }>();
  /** Counts rotations made by this instance, so a cache fill racing one is not kept. */
  private rotations = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async getCurrent(auth: AuthContext): Promise<TenantResponseDto> {
    return TenantResponseDto.from(await this.findOrFail(auth.tenantId));
  }

  /**
   * Generates a new inbound webhook API key and returns it once. The previous key stays valid for
   * `graceSeconds` so running workflows can be switched over.
   */
  async rotateWebhookApiKey(tenantId: string, graceSeconds: number): Promise<WebhookApiKeyResponseDto> {
    const apiKey = generateToken(TOKEN_PREFIX.webhookApiKey);
    const prefix = displayPrefix(apiKey);
    const rows = await this.dataSource.query<Array<{ created_at: Date; previous_webhook_api_key_expires_at: Date | null }>>(
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
    // A raw UPDATE … RETURNING comes back as [rows, count] from the pg driver through TypeORM.
    const [updated] = (Array.isArray(rows[0]) ? rows[0] : rows) as typeof rows;
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
  async verifyWebhookApiKey(tenantId: string, apiKey: string): Promise<boolean> {
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

  private async findOrFail(id: string): Promise<Tenant> {
    const tenant = await this.dataSource.getRepository(Tenant).findOneBy({ id });
    if (!tenant) throw new AppError('TENANT_NOT_FOUND', `Tenant ${id} not found`);
    return tenant;
  }
}
