import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context.js';
import { paginate } from '../../common/http/pagination.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { DomainEventPublisher } from '../../events/domain-event-publisher.js';
import type { EventName } from '../../events/event-catalog.js';
import { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import { DeliveryOutcomes } from './delivery-outcomes.js';
import { DeliveryWorker } from './delivery-worker.js';
import { DeliveryDetailDto, DeliveryResponseDto, AttemptResponseDto, type ListDeliveriesQueryDto, type TestDeliveryResultDto } from './dto/delivery.dto.js';
import { DELIVERIES_CHANNEL } from './fan-out.listener.js';
import { deliveryRequestHeaders, describedSignatureHeaders } from './request-headers.js';
import { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity.js';
import { WebhookDelivery } from './webhook-delivery.entity.js';
import { AppError } from '../../common/errors/app-error.js';

/** The delivery log, and the operations that put deliveries back in the queue or send one now. */
@Injectable()
export class DeliveriesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly subscriptions: SubscriptionsService,
    private readonly events: DomainEventPublisher,
    private readonly worker: DeliveryWorker,
    private readonly outcomes: DeliveryOutcomes,
  ) {}

  async list(auth: AuthContext, query: ListDeliveriesQueryDto): Promise<{ data: DeliveryResponseDto[]; next_cursor: string | null }> {
    const builder = this.dataSource.getRepository(WebhookDelivery).createQueryBuilder('d').where('d.tenantId = :tenantId', { tenantId: auth.tenantId });
    if (query.subscription_id) builder.andWhere('d.subscriptionId = :subscriptionId', { subscriptionId: query.subscription_id });
    if (query.status) builder.andWhere('d.status = :status', { status: query.status });
    if (query.event_name) builder.andWhere('d.eventName = :eventName', { eventName: query.event_name });
    return paginate(builder, query, DeliveryResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<DeliveryDetailDto> {
    const delivery = await this.dataSource.getRepository(WebhookDelivery).findOne({ where: { id, tenantId: auth.tenantId }, relations: { event: true } });
    if (!delivery) throw new AppError('DELIVERY_NOT_FOUND', `Delivery ${id} not found`);
    const attempts = await this.dataSource.getRepository(WebhookDeliveryAttempt).find({ where: { deliveryId: id }, order: { attemptedAt: 'ASC' } });
    const subscription = await this.subscriptions.findOrFail(auth.tenantId, delivery.subscriptionId);
    const rotating = subscription.previousSecretEncrypted !== null && subscription.previousSecretExpiresAt !== null && subscription.previousSecretExpiresAt > new Date();
    const request_headers = deliveryRequestHeaders({
      customHeaders: this.subscriptions.toResponse(subscription).headers,
      version: this.config.version,
      eventName: delivery.eventName,
      signature: describedSignatureHeaders(delivery.eventId, rotating),
    });
    return {
      ...DeliveryResponseDto.from(delivery),
      target_url: subscription.targetUrl,
      payload: delivery.event?.payload ?? {},
      request_headers,
      attempts: attempts.map(AttemptResponseDto.from),
    };
  }

  /** Puts one delivery back in the queue, due now, whatever its status; the receiver gets the same webhook-id. */
  async redeliver(auth: AuthContext, id: string): Promise<DeliveryResponseDto> {
    // One transaction: the updated row stays locked until it is read back, so a concurrent delete of the
    // subscription (and its deliveries) makes this a 404, never a 500.
    const delivery = await this.dataSource.transaction(async (manager) => {
      const [, count] = (await manager.query(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), completed_at = NULL WHERE id = $1 AND tenant_id = $2`,
        [id, auth.tenantId],
      )) as [unknown, number];
      if (count === 0) throw new AppError('DELIVERY_NOT_FOUND', `Delivery ${id} not found`);
      return manager.getRepository(WebhookDelivery).findOneByOrFail({ id });
    });
    await this.notify();
    return DeliveryResponseDto.from(delivery);
  }

  /** Re-queues every failed delivery of a subscription created since `since`. */
  async recover(auth: AuthContext, subscriptionId: string, since: Date): Promise<number> {
    await this.subscriptions.findOrFail(auth.tenantId, subscriptionId);
    const [, count] = (await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), completed_at = NULL
        WHERE subscription_id = $1 AND tenant_id = $2 AND status = 'failed' AND created_at >= $3`,
      [subscriptionId, auth.tenantId, since],
    )) as [unknown, number];
    if (count > 0) await this.notify();
    return count;
  }

  /**
   * Sends a test to one subscription now (enabled or not) and returns the attempt; no retries. webhook.test,
   * or another event's catalog example, marked as a test; neither reaches any other subscription.
   */
  async sendTest(auth: AuthContext, subscriptionId: string, eventName: EventName): Promise<TestDeliveryResultDto> {
    const subscription = await this.subscriptions.findOrFail(auth.tenantId, subscriptionId);
    const leaseSeconds = this.worker.leaseSeconds;
    const { event, delivery } = await this.dataSource.transaction(async (manager) => {
      const published =
        eventName === 'webhook.test'
          ? await this.events.publish(manager, auth.tenantId, 'webhook.test', { subscription_id: subscription.id, message: 'This is a test delivery from Junction CRM' })
          : await this.events.publishTestExample(manager, auth.tenantId, eventName);
      // Leased from the start: the worker must not send it a second time.
      const row = manager.getRepository(WebhookDelivery).create({
        tenantId: auth.tenantId,
        subscriptionId: subscription.id,
        eventId: published.id,
        eventName: 'webhook.test',
        attempts: 1,
        nextAttemptAt: new Date(Date.now() + leaseSeconds * 1000),
      });
      await manager.getRepository(WebhookDelivery).insert(row);
      return { event: published, delivery: row };
    });
    const claimed = {
      id: delivery.id,
      tenantId: auth.tenantId,
      subscriptionId: subscription.id,
      eventId: event.id,
      eventName: event.name,
      attempts: 1,
      payload: event.payload as unknown as Record<string, unknown>,
      occurredAt: event.occurredAt,
      targetUrl: subscription.targetUrl,
      enabled: true,
      secretEncrypted: subscription.secretEncrypted,
      previousSecretEncrypted: subscription.previousSecretEncrypted,
      previousSecretExpiresAt: subscription.previousSecretExpiresAt,
      headersEncrypted: subscription.headersEncrypted,
      failingSince: null,
      retryable: false,
    };
    const result = await this.worker.attempt(claimed);
    await this.outcomes.record(claimed, result);
    return {
      delivery_id: delivery.id,
      succeeded: result.succeeded,
      status_code: result.statusCode,
      duration_ms: result.durationMs,
      error_code: result.errorCode,
      error_message: result.errorMessage,
      response_excerpt: result.responseExcerpt,
    };
  }

  private async notify(): Promise<void> {
    await this.dataSource.query(`SELECT pg_notify($1, '')`, [DELIVERIES_CHANNEL]);
  }
}
