import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { EVENT_CATALOG, type EventDataMap, type EventName, type EventPayload } from './event-catalog.js';

/** What every listener receives: the event, and the transaction it must write in. */
export interface PublishedEvent<N extends EventName = EventName> {
  id: string;
  name: N;
  tenantId: string;
  occurredAt: Date;
  payload: EventPayload<N>;
  /** The EntityManager of the transaction that made the change; listeners write through it. */
  manager: EntityManager;
}

/** Emitted for every domain event, whatever its name: the webhook fan-out listens to this one. */
export const DOMAIN_EVENT = 'domain-event';

/**
 * Records domain events in the outbox and notifies listeners, inside the caller's transaction: if the
 * change rolls back, so do the event and everything listeners wrote. A listener that throws aborts the
 * change, so an event is never lost between the write and its fan-out.
 */
@Injectable()
export class DomainEventPublisher {
  constructor(private readonly emitter: EventEmitter2) {}

  async publish<N extends EventName>(manager: EntityManager, tenantId: string, name: N, data: EventDataMap[N]): Promise<PublishedEvent<N>> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(`Domain event ${name} must be published inside a transaction`);
    }
    const id = randomUUID();
    const occurredAt = new Date();
    // The envelope goes last so that no record field can overwrite it.
    const payload = { ...data, event_id: id, event_name: name, occurred_at: occurredAt.toISOString(), tenant_id: tenantId } as EventPayload<N>;
    await manager.query('INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at) VALUES ($1, $2, $3, $4, $5)', [
      id,
      tenantId,
      name,
      JSON.stringify(payload),
      occurredAt,
    ]);
    const event: PublishedEvent<N> = { id, name, tenantId, occurredAt, payload, manager };
    await this.emitter.emitAsync(DOMAIN_EVENT, event);
    await this.emitter.emitAsync(name, event);
    return event;
  }

  /**
   * Records the catalog example of an event as a test (`"test": true` in its envelope, fresh id and time),
   * for one subscription's test send: it is stored as webhook.test, which is never fanned out, so it reaches
   * no other subscription and no listener.
   */
  async publishTestExample(manager: EntityManager, tenantId: string, name: EventName): Promise<PublishedEvent> {
    const id = randomUUID();
    const occurredAt = new Date();
    const payload = { ...EVENT_CATALOG[name].example, event_id: id, event_name: name, occurred_at: occurredAt.toISOString(), tenant_id: tenantId, test: true };
    await manager.query('INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at) VALUES ($1, $2, $3, $4, $5)', [
      id,
      tenantId,
      'webhook.test',
      JSON.stringify(payload),
      occurredAt,
    ]);
    return { id, name, tenantId, occurredAt, payload: payload as EventPayload, manager };
  }
}
