import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { DOMAIN_EVENTS, type PublishedEvent } from '../../events/domain-event-publisher.js';
import { subscriptionKeysFor } from '../../events/event-patterns.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';

/**
 * The transactional fan-out: every published domain event gets its delivery rows in the transaction that
 * published it (WebhookDeliveryRepository.fanOut, one statement for all the events of one publish), so an
 * event is never lost between a write and its webhooks.
 */
@Injectable()
export class FanOutListener {
  constructor(private readonly deliveries: WebhookDeliveryRepository) {}

  // suppressErrors: false, so a failed fan-out rolls the change back instead of losing the event.
  @OnEvent(DOMAIN_EVENTS, { suppressErrors: false })
  async fanOut(events: PublishedEvent[]): Promise<void> {
    const fannedOut = events
      .map((event) => ({ tenantId: event.tenantId, eventId: event.id, eventName: event.name, subscriptionKeys: subscriptionKeysFor(event.name), payload: event.payload }))
      .filter((event) => event.subscriptionKeys.length > 0);
    if (fannedOut.length > 0) await this.deliveries.fanOut(events[0].manager, fannedOut);
  }
}
