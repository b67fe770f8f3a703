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

/**
 * Emitted once per publish with every event it recorded (in order): the webhook fan-out listens to this one,
 * so the events of one transaction are fanned out in one statement however many they are.
 */
export const DOMAIN_EVENTS = 'domain-events';

/** One event to record: of this tenant, with this name and data (the envelope is added). */
export interface EventToPublish<N extends EventName = EventName> {
  tenantId: string;
  name: N;
  data: EventDataMap[N];
}

/** The outbox rows, in order (seq follows it), in one statement whatever their number. */
async function insertEvents(manager: EntityManager, rows: Array<{ id: string; tenant_id: string; event_name: string; payload: object }>, occurredAt: Date): Promise<void> {
  await manager.query(
    `INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
     SELECT e.id, e.tenant_id, e.event_name, e.payload, $2
       FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id uuid, tenant_id uuid, event_name text, payload jsonb)) WITH ORDINALITY AS e(id, tenant_id, event_name, payload, n)
      ORDER BY e.n`,
    [JSON.stringify(rows), occurredAt],
  );
}

/**
 * Records domain events in the outbox and notifies listeners, inside the caller's transaction: if the
 * change rolls back, so do the events and everything listeners wrote. A listener that throws aborts the
 * change, so an event is never lost between the write and its fan-out. Listeners of an event's name get
 * each event; listeners of DOMAIN_EVENTS get all of one publish at once.
 */
@Injectable()
export class DomainEventPublisher {
  constructor(private readonly emitter: EventEmitter2) {}

  async publish<N extends EventName>(manager: EntityManager, tenantId: string, name: N, data: EventDataMap[N]): Promise<PublishedEvent<N>> {
    const [event] = await this.publishMany(manager, [{ tenantId, name, data }]);
    return event as PublishedEvent<N>;
  }

  /** Several events, in this order, in one INSERT (a batch of records written together publishes with one call). */
  async publishMany(manager: EntityManager, toPublish: EventToPublish[]): Promise<PublishedEvent[]> {
    if (toPublish.length === 0) return [];
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(`Domain event ${toPublish[0].name} must be published inside a transaction`);
    }
    const occurredAt = new Date();
    const events: PublishedEvent[] = toPublish.map(({ tenantId, name, data }) => {
      const id = randomUUID();
      // The envelope goes last so that no record field can overwrite it.
      const payload = { ...data, event_id: id, event_name: name, occurred_at: occurredAt.toISOString(), tenant_id: tenantId } as EventPayload;
      return { id, name, tenantId, occurredAt, payload, manager };
    });
    await insertEvents(manager, events.map(({ id, tenantId, name, payload }) => ({ id, tenant_id: tenantId, event_name: name, payload })), occurredAt);
    await this.emitter.emitAsync(DOMAIN_EVENTS, events);
    for (const event of events) await this.emitter.emitAsync(event.name, event);
    return events;
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
    await insertEvents(manager, [{ id, tenant_id: tenantId, event_name: 'webhook.test', payload }], occurredAt);
    return { id, name, tenantId, occurredAt, payload: payload as EventPayload, manager };
  }
}
