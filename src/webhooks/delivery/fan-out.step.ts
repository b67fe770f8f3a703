import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DomainEventPublisher, type OutboxPart, type OutboxStep } from '../../events/domain-event-publisher.js';
import type { EventName } from '../../events/event-catalog.js';
import type { SqlParams } from '../../database/sql.js';
import { WebhookDeliveryRepository } from './webhook-delivery.repository.js';

/**
 * The transactional fan-out: every recorded domain event gets its delivery rows in the statement that records
 * it (WebhookDeliveryRepository.fanOutPart), so an event is never lost between a write and its webhooks, and
 * a batch of events costs no statement of its own.
 */
@Injectable()
export class FanOutStep implements OutboxStep, OnModuleInit {
  constructor(
    private readonly publisher: DomainEventPublisher,
    private readonly deliveries: WebhookDeliveryRepository,
  ) {}

  onModuleInit(): void {
    this.publisher.addStep(this);
  }

  partFor(names: ReadonlySet<EventName>, params: SqlParams): OutboxPart | null {
    return this.deliveries.fanOutPart(names, params);
  }
}
