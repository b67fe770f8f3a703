import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context.js';
import { AppError } from '../../common/errors/app-error.js';
import { paginate } from '../../common/http/pagination.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { DomainEventPublisher } from '../../events/domain-event-publisher.js';
import type { EventName } from '../../events/event-catalog.js';
import { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import { DeliveryOutcomes } from './delivery-outcomes.js';
import { DeliverySender } from './delivery-sender.js';
import { DeliveryWorker } from './delivery-worker.js';
import { AttemptResponseDto, DeliveryDetailDto, DeliveryResponseDto, type ListDeliveriesQueryDto, type TestDeliveryResultDto } from './dto/delivery.dto.js';
import { deliveryRequestHeaders, describedSignatureHeaders } from './request-headers.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';

const notFound = (id: string): AppError => new AppError('DELIVERY_NOT_FOUND', `Delivery ${id} not found`);

/** The delivery log, and the operations that put deliveries back in the queue or send one now. */
@Injectable()
export class DeliveriesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly subscriptions: SubscriptionsService,
    private readonly events: DomainEventPublisher,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly worker: DeliveryWorker,
    private readonly sender: DeliverySender,
    private readonly outcomes: DeliveryOutcomes,
  ) {}

  async list(auth: AuthContext, query: ListDeliveriesQueryDto): Promise<{ data: DeliveryResponseDto[]; next_cursor: string | null }> {
    const builder = this.deliveries.listQuery(auth.tenantId, { subscriptionId: query.subscription_id, status: query.status, eventName: query.event_name });
    return paginate(builder, query, DeliveryResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<DeliveryDetailDto> {
    const found = await this.deliveries.findWithAttempts(auth.tenantId, id);
    if (!found) throw notFound(id);
    const { delivery, attempts } = found;
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
    const delivery = await this.deliveries.requeue(auth.tenantId, id);
    if (!delivery) throw notFound(id);
    return DeliveryResponseDto.from(delivery);
  }

  /** Re-queues every failed delivery of a subscription created since `since`. */
  async recover(auth: AuthContext, subscriptionId: string, since: Date): Promise<number> {
    await this.subscriptions.findOrFail(auth.tenantId, subscriptionId);
    return this.deliveries.requeueFailed(auth.tenantId, subscriptionId, since);
  }

  /**
   * Sends a test to one subscription now (enabled or not) and returns the attempt; no retries. webhook.test,
   * or another event's catalog example, marked as a test; neither reaches any other subscription.
   */
  async sendTest(auth: AuthContext, subscriptionId: string, eventName: EventName): Promise<TestDeliveryResultDto> {
    const subscription = await this.subscriptions.findOrFail(auth.tenantId, subscriptionId);
    const { deliveryId, sentAs } = await this.dataSource.transaction(async (manager) => {
      const published =
        eventName === 'webhook.test'
          ? await this.events.publish(manager, auth.tenantId, 'webhook.test', { subscription_id: subscription.id, message: 'This is a test delivery from Junction CRM' })
          : await this.events.publishTestExample(manager, auth.tenantId, eventName);
      // Leased from the start: the worker must not send it a second time.
      const id = await this.deliveries.insertLeased(manager, {
        tenantId: auth.tenantId,
        subscriptionId: subscription.id,
        eventId: published.id,
        eventName: 'webhook.test',
        leaseSeconds: this.worker.leaseSeconds,
      });
      return { deliveryId: id, sentAs: published.name };
    });
    // Sent once, enabled or not, as the example's event (its X-Webhook-Event), and never a reason to disable.
    const delivery = { ...(await this.deliveries.leased(deliveryId)), eventName: sentAs, enabled: true, retryable: false, failingSince: null };
    const result = await this.sender.send(delivery);
    await this.outcomes.record(delivery, result);
    return {
      delivery_id: deliveryId,
      succeeded: result.succeeded,
      status_code: result.statusCode,
      duration_ms: result.durationMs,
      error_code: result.errorCode,
      error_message: result.errorMessage,
      response_excerpt: result.responseExcerpt,
    };
  }
}
