import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { DOMAIN_EVENT, type PublishedEvent } from '../../events/domain-event-publisher.js';
import { subscriptionKeysFor } from '../../events/event-patterns.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';

/**
 * The transactional fan-out: every published domain event gets its delivery rows in the transaction that
 * published it (WebhookDeliveryRepository.fanOut), so an event is never lost between a write and its webhooks.
 */
@Injectable()
export class FanOutListener {
  constructor(private readonly deliveries: WebhookDeliveryRepository) {}

  // suppressErrors: false, so a failed fan-out rolls the change back instead of losing the event.
  @OnEvent(DOMAIN_EVENT, { suppressErrors: false })
  async fanOut(event: PublishedEvent): Promise<void> {
    const subscriptionKeys = subscriptionKeysFor(event.name);
    if (subscriptionKeys.length === 0) return;
    await this.deliveries.fanOut(event.manager, { tenantId: event.tenantId, eventId: event.id, eventName: event.name, subscriptionKeys, payload: event.payload });
  }
}
