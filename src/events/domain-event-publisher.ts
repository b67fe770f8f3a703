import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { sql, SqlParams } from '../database/sql.js';
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

/** One event to record: of this tenant, with this name and data (the envelope is added). */
export interface EventToPublish<N extends EventName = EventName> {
  tenantId: string;
  name: N;
  data: EventDataMap[N];
}

/** An event about a record written in the same statement (publishWithWrite): recorded only if the record was. */
export interface RecordEventToPublish<N extends EventName = EventName> extends EventToPublish<N> {
  recordId: string;
}

/**
 * A record write that goes into the statement that records its events: a data-modifying CTE named `written`
 * (`written AS (INSERT … RETURNING id)`) giving the id of each record it wrote; an INSERT … ON CONFLICT DO
 * NOTHING may write fewer than it was given. Its values are bound through `params`.
 */
export type RecordWrite = (params: SqlParams) => string;

/** An outbox step's part of the statement: its CTEs (`name AS (…)`, comma-separated) and an expression selected once. */
export interface OutboxPart {
  ctes: string;
  select: string;
}

/**
 * What else happens when events are recorded, in the same statement: data-modifying CTEs that read the
 * events just recorded from `published` (id, tenant_id, event_name, payload). The webhook fan-out is one. A
 * step that fails fails the statement, so a change, its events and what the steps wrote commit together.
 */
export interface OutboxStep {
  /**
   * The step's CTEs (`name AS (…)`, comma-separated) for events of these names, and an expression the
   * statement selects once (a pg_notify on what they wrote); null when it has nothing to do for them.
   */
  partFor(names: ReadonlySet<EventName>, params: SqlParams): OutboxPart | null;
}

/**
 * Records domain events in the outbox and notifies listeners, inside the caller's transaction: if the
 * change rolls back, so do the events and everything listeners and steps wrote. The events of one publish
 * are one statement, with what the outbox steps (the fan-out) add and, for publishWithWrite, the write
 * itself, so a batch of records costs one round trip to the database. Listeners of an event's name then get
 * each event, with the transaction's manager; one that throws aborts the change, so an event is never lost
 * between the write and what follows it.
 */
@Injectable()
export class DomainEventPublisher {
  private readonly steps: OutboxStep[] = [];

  constructor(private readonly emitter: EventEmitter2) {}

  /** Adds a step to every recording of events (the fan-out adds itself when its module starts); returns its removal. */
  addStep(step: OutboxStep): () => void {
    this.steps.push(step);
    return () => {
      const index = this.steps.indexOf(step);
      if (index >= 0) this.steps.splice(index, 1);
    };
  }

  async publish<N extends EventName>(manager: EntityManager, tenantId: string, name: N, data: EventDataMap[N]): Promise<PublishedEvent<N>> {
    const [event] = await this.publishMany(manager, [{ tenantId, name, data }]);
    return event as PublishedEvent<N>;
  }

  /** Several events, in this order, in one statement with the outbox steps' parts (a batch of records written together publishes with one call). */
  async publishMany(manager: EntityManager, toPublish: EventToPublish[]): Promise<PublishedEvent[]> {
    if (toPublish.length === 0) return [];
    const events = this.envelopes(manager, toPublish);
    await this.record(manager, events.map((event) => ({ event })));
    await this.notifyListeners(events);
    return events;
  }

  /**
   * A write of records and their events in one statement: `write` (see RecordWrite), the events of the
   * records it wrote (in this order), and the outbox steps. Answers with the ids of the records written; the
   * events of the others are not recorded and reach no listener.
   */
  async publishWithWrite(manager: EntityManager, write: RecordWrite, toPublish: RecordEventToPublish[]): Promise<Set<string>> {
    const events = this.envelopes(manager, toPublish);
    const written = await this.record(
      manager,
      events.map((event, index) => ({ event, recordId: toPublish[index].recordId })),
      write,
    );
    await this.notifyListeners(events.filter((_event, index) => written.has(toPublish[index].recordId)));
    return written;
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
    const stored: PublishedEvent = { id, name: 'webhook.test', tenantId, occurredAt, payload: payload as EventPayload, manager };
    await this.record(manager, [{ event: stored }]);
    return { ...stored, name };
  }

  private envelopes(manager: EntityManager, toPublish: EventToPublish[]): PublishedEvent[] {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(`Domain event ${toPublish[0]?.name ?? ''} must be published inside a transaction`);
    }
    const occurredAt = new Date();
    return toPublish.map(({ tenantId, name, data }) => {
      const id = randomUUID();
      // The envelope goes last so that no record field can overwrite it.
      const payload = { ...data, event_id: id, event_name: name, occurred_at: occurredAt.toISOString(), tenant_id: tenantId } as EventPayload;
      return { id, name, tenantId, occurredAt, payload, manager };
    });
  }

  /**
   * The one statement: [the write,] the outbox rows in order (seq follows it) — only those whose record was
   * written, when there is a write — and each step's part. Answers with the ids the write returned.
   */
  private async record(manager: EntityManager, rows: Array<{ event: PublishedEvent; recordId?: string }>, write?: RecordWrite): Promise<Set<string>> {
    const params = new SqlParams();
    const ctes = write ? [write(params)] : [];
    const input = rows.map(({ event, recordId }) => ({ id: event.id, tenant_id: event.tenantId, event_name: event.name, payload: event.payload, record_id: recordId ?? null }));
    ctes.push(`published AS (
         INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
         SELECT e.id, e.tenant_id, e.event_name, e.payload, ${params.bind(rows[0]?.event.occurredAt ?? new Date())}::timestamptz
           FROM ROWS FROM (jsonb_to_recordset(${params.bind(JSON.stringify(input))}::jsonb) AS (id uuid, tenant_id uuid, event_name text, payload jsonb, record_id uuid))
                WITH ORDINALITY AS e(id, tenant_id, event_name, payload, record_id, n)
          ${write ? 'WHERE e.record_id IN (SELECT id FROM written)' : ''}
          ORDER BY e.n
         RETURNING id, tenant_id, event_name, payload)`);
    const selects = [write ? `(SELECT coalesce(array_agg(id), '{}') FROM written) AS written` : `'{}'::uuid[] AS written`];
    const names = new Set(rows.map(({ event }) => event.name));
    for (const step of this.steps) {
      const part = step.partFor(names, params);
      if (!part) continue;
      ctes.push(part.ctes);
      selects.push(part.select);
    }
    const { rows: result } = await sql<{ written: string[] }>(manager, `WITH ${ctes.join(',\n       ')}\n     SELECT ${selects.join(', ')}`, params.values, { prepare: true });
    return new Set(result[0].written);
  }

  private async notifyListeners(events: PublishedEvent[]): Promise<void> {
    for (const event of events) await this.emitter.emitAsync(event.name, event);
  }
}
