import { Inject, Injectable } from '@nestjs/common';
import { AppError, duplicateOf, invalidField } from '../../common/errors/app-error.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { sql } from '../../database/sql.js';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { AuthContext } from '../../common/auth/auth-context.js';
import { isUniqueViolation } from '../../common/http/conflict.js';
import { paginate } from '../../common/http/pagination.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { assertPublicTarget, BlockedTargetError } from '../../common/net/ssrf-guard.js';
import { generateWebhookSecret, WebhookSecrets } from './webhook-secrets.service.js';
import type {
  CreateSubscriptionDto,
  ListSubscriptionsQueryDto,
  SecretResponseDto,
  SubscriptionResponseDto,
  SubscriptionWithSecretDto,
  UpdateSubscriptionDto,
} from './dto/subscription.dto.js';
import { WebhookSubscription } from './webhook-subscription.entity.js';

export const ROTATION_GRACE_MS = 24 * 3600 * 1000;
const MAX_CUSTOM_HEADERS = 20;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
const RESERVED_HEADERS = /^(content-type|content-length|host|user-agent|connection|transfer-encoding|x-webhook-.*|webhook-.*)$/i;
const TARGET_CONSTRAINT = 'webhook_subscriptions_tenant_id_event_name_target_url_key';

type SubscriptionChanges = QueryDeepPartialEntity<WebhookSubscription>;

const notFound = (id: string): AppError => new AppError('SUBSCRIPTION_NOT_FOUND', `Subscription ${id} not found`);

function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, '••••••']));
}

/** What is stored for a requested filter: an empty object filters nothing, so it is stored as none. */
function storedFilter(filter: Record<string, unknown> | null | undefined): Record<string, any> | null {
  return filter && Object.keys(filter).length > 0 ? filter : null;
}

@Injectable()
export class SubscriptionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly secrets: WebhookSecrets,
  ) {}

  toResponse(subscription: WebhookSubscription): SubscriptionResponseDto {
    return {
      id: subscription.id,
      tenant_id: subscription.tenantId,
      event_name: subscription.eventName,
      target_url: subscription.targetUrl,
      enabled: subscription.enabled,
      description: subscription.description,
      headers: maskHeaders(this.secrets.headersOf(subscription)),
      filter: subscription.filter,
      disabled_reason: subscription.disabledReason,
      disabled_at: subscription.disabledAt?.toISOString() ?? null,
      created_at: subscription.createdAt.toISOString(),
      updated_at: subscription.updatedAt.toISOString(),
    };
  }

  private withSecret(subscription: WebhookSubscription): SubscriptionWithSecretDto {
    return { ...this.toResponse(subscription), secret: this.secrets.secretOf(subscription) };
  }

  /**
   * Creates a subscription, or — for the tenant's existing one with the same event_name and target_url
   * (automation platforms re-register on every activation) — applies what the request states (description,
   * headers, enabled, filter; omitted fields stay, and enabled true or omitted re-enables it) and returns it; `created`
   * says which.
   */
  async create(auth: AuthContext, dto: CreateSubscriptionDto): Promise<{ created: boolean; subscription: SubscriptionWithSecretDto }> {
    const targetUrl = await this.validateTargetUrl(dto.target_url);
    const changes = this.changesOf(dto);
    const repository = this.dataSource.getRepository(WebhookSubscription);
    const key = { tenantId: auth.tenantId, eventName: dto.event_name, targetUrl };
    const existing = await repository.findOneBy(key);
    if (existing) return { created: false, subscription: this.withSecret(await this.reRegister(existing, changes)) };
    const subscription = repository.create({
      ...key,
      enabled: dto.enabled ?? true,
      description: dto.description ?? null,
      headersEncrypted: this.secrets.sealHeaders(dto.headers),
      filter: storedFilter(dto.filter),
      secretEncrypted: this.secrets.seal(generateWebhookSecret()),
    });
    try {
      await repository.insert(subscription);
    } catch (error) {
      // Two registrations raced: the other one won, and gets this request's fields.
      if (isUniqueViolation(error, TARGET_CONSTRAINT)) {
        return { created: false, subscription: this.withSecret(await this.reRegister(await repository.findOneByOrFail(key), changes)) };
      }
      throw error;
    }
    return { created: true, subscription: this.withSecret(await repository.findOneByOrFail({ id: subscription.id })) };
  }

  /** A re-registration: the request's fields, and enabled unless it says false (the platform re-activated its workflow). */
  private reRegister(existing: WebhookSubscription, changes: SubscriptionChanges): Promise<WebhookSubscription> {
    return this.applyUpdate(existing.tenantId, existing.id, { ...changes, enabled: changes.enabled ?? true });
  }

  async list(auth: AuthContext, query: ListSubscriptionsQueryDto): Promise<{ data: SubscriptionResponseDto[]; next_cursor: string | null }> {
    const builder = this.dataSource.getRepository(WebhookSubscription).createQueryBuilder('s').where('s.tenantId = :tenantId', { tenantId: auth.tenantId });
    if (query.event_name) builder.andWhere('s.eventName = :eventName', { eventName: query.event_name });
    if (query.target_url) builder.andWhere('s.targetUrl = :targetUrl', { targetUrl: query.target_url });
    if (query.enabled !== undefined) builder.andWhere('s.enabled = :enabled', { enabled: query.enabled });
    return paginate(builder, query, (subscription) => this.toResponse(subscription));
  }

  async get(auth: AuthContext, id: string): Promise<SubscriptionResponseDto> {
    return this.toResponse(await this.findOrFail(auth.tenantId, id));
  }

  async update(auth: AuthContext, id: string, dto: UpdateSubscriptionDto): Promise<SubscriptionResponseDto> {
    const changes = this.changesOf(dto);
    const targetUrl = dto.target_url === undefined ? undefined : await this.validateTargetUrl(dto.target_url);
    if (dto.event_name !== undefined) changes.eventName = dto.event_name;
    if (targetUrl !== undefined) changes.targetUrl = targetUrl;
    try {
      return this.toResponse(await this.applyUpdate(auth.tenantId, id, changes));
    } catch (error) {
      if (!isUniqueViolation(error, TARGET_CONSTRAINT)) throw error;
      const current = await this.findOrFail(auth.tenantId, id);
      const holder = await this.dataSource.getRepository(WebhookSubscription).findOneByOrFail({
        tenantId: auth.tenantId,
        eventName: dto.event_name ?? current.eventName,
        targetUrl: targetUrl ?? current.targetUrl,
      });
      throw duplicateOf('SUBSCRIPTION_TARGET_TAKEN', `Subscription ${holder.id} already has this event_name and target_url`, 'target_url', holder.id);
    }
  }

  /** The validated description, headers, enabled and filter of a request, as column values (undefined: not given). */
  private changesOf(dto: UpdateSubscriptionDto): SubscriptionChanges {
    const changes: SubscriptionChanges = {};
    if (dto.description !== undefined) changes.description = dto.description;
    if (dto.headers !== undefined) {
      this.validateHeaders(dto.headers);
      changes.headersEncrypted = this.secrets.sealHeaders(dto.headers);
    }
    if (dto.enabled !== undefined) changes.enabled = dto.enabled;
    if (dto.filter !== undefined) changes.filter = storedFilter(dto.filter);
    return changes;
  }

  /**
   * Applies changes to the tenant's subscription, locked for the transaction so a concurrent DELETE either
   * waits or wins (then this is a 404, never a 500). Enabling again clears what disabled it, so the three-day
   * failure clock restarts.
   */
  private applyUpdate(tenantId: string, id: string, changes: SubscriptionChanges): Promise<WebhookSubscription> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.findOrFail(tenantId, id, manager);
      const values: SubscriptionChanges = { ...changes };
      if (values.enabled === true && !current.enabled) Object.assign(values, { disabledReason: null, disabledAt: null, failingSince: null });
      const repository = manager.getRepository(WebhookSubscription);
      if (Object.keys(values).length > 0) await repository.update({ id, tenantId }, values);
      return repository.findOneByOrFail({ id });
    });
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    const result = await this.dataSource.getRepository(WebhookSubscription).delete({ id, tenantId: auth.tenantId });
    if (!result.affected) throw notFound(id);
  }

  async getSecret(auth: AuthContext, id: string): Promise<SecretResponseDto> {
    return this.secretsOf(await this.findOrFail(auth.tenantId, id));
  }

  private secretsOf(subscription: WebhookSubscription): SecretResponseDto {
    const previous = this.secrets.previousSecretOf(subscription);
    return {
      secret: this.secrets.secretOf(subscription),
      previous_secret: previous,
      previous_secret_expires_at: previous ? (subscription.previousSecretExpiresAt?.toISOString() ?? null) : null,
    };
  }

  /** A new secret; the old one keeps signing beside it for 24 hours so receivers can switch over. */
  async rotateSecret(auth: AuthContext, id: string): Promise<SecretResponseDto> {
    const rotated = await this.dataSource.transaction(async (manager) => {
      const current = await this.findOrFail(auth.tenantId, id, manager);
      const changes = {
        previousSecretEncrypted: current.secretEncrypted,
        previousSecretExpiresAt: new Date(Date.now() + ROTATION_GRACE_MS),
        secretEncrypted: this.secrets.seal(generateWebhookSecret()),
      };
      await manager.getRepository(WebhookSubscription).update({ id, tenantId: auth.tenantId }, changes);
      return Object.assign(current, changes);
    });
    return this.secretsOf(rotated);
  }

  /**
   * Marks the tenant's subscription disabled, with why, in the caller's transaction (the delivery side fails
   * its pending deliveries and announces it there). Null when it is disabled already or gone.
   */
  async markDisabled(manager: EntityManager, tenantId: string, id: string, reason: string): Promise<{ eventName: string; targetUrl: string; disabledAt: Date } | null> {
    const { rows } = await sql<{ event_name: string; target_url: string; disabled_at: Date }>(
      manager,
      `UPDATE webhook_subscriptions SET enabled = false, disabled_reason = $3, disabled_at = now(), updated_at = now()
        WHERE id = $1 AND tenant_id = $2 AND enabled RETURNING event_name, target_url, disabled_at`,
      [id, tenantId, reason],
    );
    return rows[0] ? { eventName: rows[0].event_name, targetUrl: rows[0].target_url, disabledAt: new Date(rows[0].disabled_at) } : null;
  }

  /** The tenant's subscription (a 404 otherwise); inside a transaction (`manager`), locked until it ends. */
  async findOrFail(tenantId: string, id: string, manager?: EntityManager): Promise<WebhookSubscription> {
    const query = (manager ?? this.dataSource.manager)
      .getRepository(WebhookSubscription)
      .createQueryBuilder('s')
      .where('s.id = :id AND s.tenantId = :tenantId', { id, tenantId });
    if (manager) query.setLock('pessimistic_write');
    const subscription = await query.getOne();
    if (!subscription) throw notFound(id);
    return subscription;
  }

  /** A usable http(s) URL, refused when it points at a private address (unless WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  private async validateTargetUrl(value: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw invalidField('target_url', 'target_url must be an absolute http(s) URL such as https://n8n.example.com/webhook/contact-created');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidField('target_url', 'target_url must use http or https');
    if (url.username || url.password) throw invalidField('target_url', 'target_url must not contain credentials; use headers for authentication');
    if (!this.config.webhookAllowPrivateTargets) {
      try {
        await assertPublicTarget(url);
      } catch (error) {
        const reason = error instanceof BlockedTargetError ? `target_url is not allowed: ${error.message}` : `target_url host ${url.hostname} could not be resolved`;
        const remedy = 'targets on private, loopback and link-local addresses are refused here (WEBHOOK_ALLOW_PRIVATE_TARGETS=false on this server)';
        throw new AppError('TARGET_NOT_ALLOWED', `${reason}; ${remedy}`, { details: [{ field: 'target_url', message: reason }] });
      }
    }
    return url.toString();
  }

  private validateHeaders(headers: Record<string, string> | undefined): void {
    if (!headers) return;
    const entries = Object.entries(headers);
    if (entries.length > MAX_CUSTOM_HEADERS) throw invalidField('headers', `headers can have at most ${MAX_CUSTOM_HEADERS} entries`);
    for (const [name, value] of entries) {
      if (!HEADER_NAME.test(name)) throw invalidField(`headers.${name}`, `headers: "${name}" is not a valid header name`);
      if (RESERVED_HEADERS.test(name)) throw invalidField(`headers.${name}`, `headers: "${name}" is set by Junction CRM itself and cannot be overridden`);
      if (typeof value !== 'string' || /[\r\n]/.test(value) || value.length > 2000) {
        throw invalidField(`headers.${name}`, `headers: the value of "${name}" must be a single-line string of at most 2000 characters`);
      }
    }
  }
}
