import { EventEmitter2 } from '@nestjs/event-emitter';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactsService } from '../src/contacts/contacts.service.js';
import { DomainEventPublisher, type PublishedEvent } from '../src/events/domain-event-publisher.js';
import { EVENT_CATALOG, type EventName } from '../src/events/event-catalog.js';
import { registerAccount, startTestApp, type ApiResponse, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { ISO_UTC_MS, uniqueEmail } from './support/helpers.js';


interface StoredEvent {
  id: string;
  tenant_id: string;
  event_name: string;
  payload: Record<string, any>;
  occurred_at: Date;
}

describe('domain events', () => {
  let t: TestApp;
  let alice: RegisteredAccount;

  /** Every stored event of a tenant, oldest first. */
  const eventsOf = (tenantId: string): Promise<StoredEvent[]> =>
    t.sql<StoredEvent>('SELECT id, tenant_id, event_name, payload, occurred_at FROM domain_events WHERE tenant_id = $1 ORDER BY occurred_at, xmin::text::bigint', [
      tenantId,
    ]);

  /**
   * The stored events about one contact, oldest first. Two writes can share a millisecond of occurred_at, so ties
   * are broken by the inserting transaction's id (xmin), which grows with each write of this test run.
   */
  const eventsAboutContact = (contactId: string): Promise<StoredEvent[]> =>
    t.sql<StoredEvent>(
      `SELECT id, tenant_id, event_name, payload, occurred_at FROM domain_events WHERE payload->>'contact_id' = $1
       ORDER BY occurred_at, xmin::text::bigint`,
      [contactId],
    );

  const countAllEvents = async (): Promise<number> => (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM domain_events'))[0].n;

  const createContact = (body: Record<string, unknown>, account: RegisteredAccount = alice): Promise<ApiResponse> =>
    t.request('POST', '/api/contacts', { token: account.token, body });

  const createOk = async (body: Record<string, unknown> = {}): Promise<Record<string, any>> => {
    const response = await createContact({ email: uniqueEmail('event'), ...body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as Record<string, any>;
  };

  const patch = (id: string, body: Record<string, unknown>): Promise<ApiResponse> =>
    t.request('PATCH', `/api/contacts/${id}`, { token: alice.token, body });

  /** The payload's keys are the catalog example's keys, and the envelope matches the stored row. */
  const expectCatalogShape = (event: StoredEvent): void => {
    const definition = EVENT_CATALOG[event.event_name as EventName];
    expect(definition, `${event.event_name} is in the catalog`).toBeDefined();
    expect(Object.keys(event.payload).sort()).toEqual(Object.keys(definition.example).sort());
    expect(event.payload.event_id).toBe(event.id);
    expect(event.payload.event_name).toBe(event.event_name);
    expect(event.payload.tenant_id).toBe(event.tenant_id);
    expect(event.payload.occurred_at).toMatch(ISO_UTC_MS);
    expect(event.payload.occurred_at).toBe(event.occurred_at.toISOString());
  };

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerAccount(t, 'events-co');
  });

  afterAll(async () => {
    await t.close();
  });

  describe('one event per effective write', () => {
    it('register stores exactly one user.created for the new admin', async () => {
      const account = await registerAccount(t, 'fresh-tenant');
      const events = await eventsOf(account.tenantId);
      expect(events.map((event) => event.event_name)).toEqual(['user.created']);
      expect(events[0].payload).toMatchObject({ user_id: account.userId, email: account.email, role: 'admin', name: 'Admin of fresh-tenant' });
      expectCatalogShape(events[0]);
    });

    it('POST /api/users stores exactly one user.created in the caller tenant', async () => {
      const email = uniqueEmail('member');
      const before = await eventsOf(alice.tenantId);
      const response = await t.request('POST', '/api/users', {
        token: alice.token,
        body: { email, name: 'Grace Hopper', password: 'correct horse battery staple' },
      });
      expect(response.status).toBe(201);

      const after = await eventsOf(alice.tenantId);
      const added = after.filter((event) => !before.some((old) => old.id === event.id));
      expect(added.map((event) => event.event_name)).toEqual(['user.created']);
      expect(added[0].payload).toMatchObject({
        user_id: response.body.id,
        email,
        name: 'Grace Hopper',
        role: 'member',
        created_at: response.body.created_at,
      });
      expectCatalogShape(added[0]);
    });

    it('POST /api/contacts stores exactly one contact.created carrying the contact', async () => {
      const created = await createOk({ first_name: 'Ada', custom_fields: { tier: 'gold' } });
      const events = await eventsAboutContact(created.id);
      expect(events.map((event) => event.event_name)).toEqual(['contact.created']);

      const { id, tenant_id: tenantId, ...fields } = created;
      expect(events[0].tenant_id).toBe(tenantId);
      expect(events[0].payload).toEqual({
        event_id: events[0].id,
        event_name: 'contact.created',
        occurred_at: events[0].occurred_at.toISOString(),
        tenant_id: alice.tenantId,
        contact_id: id,
        ...fields,
      });
    });

    it('a PATCH that changes a field stores exactly one contact.updated', async () => {
      const created = await createOk({ first_name: 'Before' });
      const response = await patch(created.id, { first_name: 'After' });
      expect(response.status).toBe(200);

      const events = await eventsAboutContact(created.id);
      expect(events.map((event) => event.event_name)).toEqual(['contact.created', 'contact.updated']);
      expect(events[1].payload.changes).toEqual({ first_name: { from: 'Before', to: 'After' } });
    });

    it('DELETE stores exactly one contact.deleted', async () => {
      const created = await createOk();
      expect((await t.request('DELETE', `/api/contacts/${created.id}`, { token: alice.token })).status).toBe(204);
      const events = await eventsAboutContact(created.id);
      expect(events.map((event) => event.event_name)).toEqual(['contact.created', 'contact.deleted']);
    });

    it('each of several PATCHes that change something stores its own contact.updated', async () => {
      const created = await createOk({ company: 'One' });
      for (const company of ['Two', 'Three', 'Four']) expect((await patch(created.id, { company })).status).toBe(200);
      const events = await eventsAboutContact(created.id);
      expect(events.map((event) => event.event_name)).toEqual(['contact.created', 'contact.updated', 'contact.updated', 'contact.updated']);
      expect(events.slice(1).map((event) => event.payload.changes.company)).toEqual([
        { from: 'One', to: 'Two' },
        { from: 'Two', to: 'Three' },
        { from: 'Three', to: 'Four' },
      ]);
    });

    it('concurrent PATCHes of one contact store one contact.updated each, chained without a lost update', async () => {
      const created = await createOk({ company: 'Start' });
      const values = Array.from({ length: 10 }, (_, index) => `Company ${index}`);
      const responses = await Promise.all(values.map((company) => patch(created.id, { company })));
      expect(responses.map((response) => response.status)).toEqual(values.map(() => 200));

      const updates = (await eventsAboutContact(created.id)).filter((event) => event.event_name === 'contact.updated');
      expect(updates).toHaveLength(10);
      // Each change starts where another ended: following from → to from 'Start' visits all ten values once.
      const next = new Map(updates.map((event) => [event.payload.changes.company.from as string, event.payload.changes.company.to as string]));
      expect(next.size).toBe(10);
      const visited: string[] = [];
      for (let value = next.get('Start'); value !== undefined && visited.length <= 10; value = next.get(value)) visited.push(value);
      expect([...visited].sort()).toEqual([...values].sort());
      const [row] = await t.sql('SELECT company FROM contacts WHERE id = $1', [created.id]);
      expect(row.company).toBe(visited[visited.length - 1]);
    });

    it('concurrent DELETEs of one contact answer one 204 and 404s, and store one contact.deleted', async () => {
      const created = await createOk();
      const responses = await Promise.all(Array.from({ length: 6 }, () => t.request('DELETE', `/api/contacts/${created.id}`, { token: alice.token })));
      expect(responses.map((response) => response.status).sort()).toEqual([204, 404, 404, 404, 404, 404]);
      const events = await eventsAboutContact(created.id);
      expect(events.map((event) => event.event_name)).toEqual(['contact.created', 'contact.deleted']);
    });
  });

  describe('no event for a write that changes nothing or fails', () => {
    it('stores nothing and keeps updated_at for a PATCH with the same values, custom_fields keys in another order', async () => {
      const created = await createOk({
        first_name: 'Same',
        last_name: 'Values',
        phone: '+1 555 0100',
        custom_fields: { alpha: 1, beta: { x: true, y: [1, 2] }, gamma: 'g' },
      });
      const eventsBefore = await countAllEvents();

      const response = await patch(created.id, {
        first_name: 'Same',
        last_name: 'Values',
        email: created.email,
        phone: '+1 555 0100',
        custom_fields: { gamma: 'g', beta: { y: [1, 2], x: true }, alpha: 1 },
      });

      expect(response.status).toBe(200);
      expect(response.body).toEqual(created);
      expect(await countAllEvents()).toBe(eventsBefore);
      expect((await eventsAboutContact(created.id)).map((event) => event.event_name)).toEqual(['contact.created']);
    });

    it('stores nothing for an empty PATCH body', async () => {
      const created = await createOk();
      const eventsBefore = await countAllEvents();
      const response = await patch(created.id, {});
      expect(response.status).toBe(200);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it('stores nothing for a PATCH whose values equal the stored ones once trimmed', async () => {
      const created = await createOk({ company: 'Trimmed Co' });
      const eventsBefore = await countAllEvents();
      expect((await patch(created.id, { company: '  Trimmed Co  ' })).status).toBe(200);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it('stores nothing for a create rejected as a duplicate email (409)', async () => {
      const existing = await createOk();
      const eventsBefore = await countAllEvents();
      const response = await createContact({ email: (existing.email as string).toUpperCase() });
      expect(response.status).toBe(409);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it('stores nothing for a PATCH rejected because the email is taken (409)', async () => {
      const holder = await createOk();
      const other = await createOk({ first_name: 'Other' });
      const eventsBefore = await countAllEvents();
      const response = await patch(other.id, { first_name: 'Changed too', email: holder.email });
      expect(response.status).toBe(409);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it('stores nothing for a create or PATCH rejected by validation (400)', async () => {
      const created = await createOk();
      const eventsBefore = await countAllEvents();
      expect((await createContact({ email: 'not-an-email' })).status).toBe(400);
      expect((await createContact({ custom_fields: ['not', 'an', 'object'] })).status).toBe(400);
      expect((await patch(created.id, { first_name: 'x'.repeat(201) })).status).toBe(400);
      expect((await patch(created.id, { unknown_field: 1 })).status).toBe(400);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it('stores nothing for a PATCH or DELETE of a missing contact (404)', async () => {
      const eventsBefore = await countAllEvents();
      const missing = '00000000-0000-4000-8000-000000000000';
      expect((await patch(missing, { first_name: 'Nobody' })).status).toBe(404);
      expect((await t.request('DELETE', `/api/contacts/${missing}`, { token: alice.token })).status).toBe(404);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it('stores nothing for POST /api/users with a taken email (409)', async () => {
      const eventsBefore = await countAllEvents();
      const response = await t.request('POST', '/api/users', {
        token: alice.token,
        body: { email: alice.email.toUpperCase(), name: 'Twin', password: 'correct horse battery staple' },
      });
      expect(response.status).toBe(409);
      expect(await countAllEvents()).toBe(eventsBefore);
    });
  });

  describe('atomicity with the write', () => {
    it('a rolled-back transaction leaves neither the contact nor its event', async () => {
      const dataSource = t.app.get(DataSource);
      const contacts = t.app.get(ContactsService);
      const email = uniqueEmail('rollback');
      const eventsBefore = await countAllEvents();
      let insertedId: string | undefined;

      await expect(
        dataSource.transaction(async (manager) => {
          const contact = await contacts.insert(manager, alice.tenantId, { email });
          insertedId = contact.id;
          // Inside the transaction both rows exist.
          expect(await manager.query('SELECT count(*)::int AS n FROM domain_events WHERE payload->>$1 = $2', ['contact_id', contact.id])).toEqual([
            { n: 1 },
          ]);
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');

      expect(insertedId).toEqual(expect.any(String));
      expect(await t.sql('SELECT id FROM contacts WHERE id = $1 OR lower(email) = lower($2)', [insertedId, email])).toEqual([]);
      expect(await eventsAboutContact(insertedId!)).toEqual([]);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it('a create writes the contact, its event and its fan-out in one statement, stored as the response shows', async () => {
      // The bearer token resolved and in the cache, so that the request counted below reads and touches no token.
      await createOk({ first_name: 'Warm-up' });
      const statements: string[] = [];
      const prepared: string[] = [];
      const original = pg.Client.prototype.query;
      // Counts what the app sends on its pool's connections (the app runs in this process); it changes nothing.
      // The delivery worker, woken by the create's NOTIFY, claims on connections of its own (junction-crm-claims),
      // maybe before the response arrives here: those are not the request's.
      pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
        if ((this as unknown as { connectionParameters: { application_name?: string } }).connectionParameters.application_name !== 'junction-crm') {
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        }
        const config = args[0] as string | { text?: string; name?: string };
        statements.push((typeof config === 'string' ? config : (config?.text ?? '')).replace(/\s+/g, ' ').trim());
        if (typeof config === 'object' && config?.name) prepared.push(config.name);
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof original;
      let response: ApiResponse;
      try {
        response = await createContact({ email: uniqueEmail('one-statement'), first_name: 'Uno', custom_fields: { zeta: 1, alpha: { nested: true } } });
      } finally {
        pg.Client.prototype.query = original;
      }
      expect(response.status).toBe(201);

      const writes = statements.filter((text) => !/^(START TRANSACTION|COMMIT|SELECT 1)$/.test(text));
      expect(writes).toHaveLength(1);
      expect(writes[0]).toMatch(/INSERT INTO "contacts".*INSERT INTO domain_events.*INSERT INTO webhook_deliveries/);
      // …sent as a prepared statement (sql()'s prepare), the only one of the request.
      expect(prepared).toEqual([expect.stringMatching(/^junction_/)]);
      const [row] = await t.sql<{ created_at: Date; updated_at: Date; custom_fields: unknown; first_name: string }>(
        'SELECT created_at, updated_at, custom_fields, first_name FROM contacts WHERE id = $1',
        [response.body.id],
      );
      expect(row.created_at.toISOString()).toBe(response.body.created_at);
      expect(row.updated_at.toISOString()).toBe(response.body.updated_at);
      expect(row).toMatchObject({ first_name: 'Uno', custom_fields: { zeta: 1, alpha: { nested: true } } });
      const [event] = await eventsAboutContact(response.body.id);
      expect(event.payload).toMatchObject({ created_at: response.body.created_at, updated_at: response.body.updated_at, custom_fields: response.body.custom_fields });
    });

    it('an outbox step that fails fails the write: 500, no contact, no event, for a create and an update alike', async () => {
      const publisher = t.app.get(DomainEventPublisher);
      const existing = await createOk({ first_name: 'Kept' });
      const email = uniqueEmail('failing-step');
      const eventsBefore = await countAllEvents();
      // A part whose INSERT breaks a NOT NULL constraint: the statement that records the events fails.
      const remove = publisher.addStep({
        partFor: () => ({ ctes: 'failing AS (INSERT INTO domain_events (id) SELECT NULL FROM published RETURNING 1)', select: '(SELECT count(*) FROM failing) AS failing' }),
      });
      let created: ApiResponse;
      let patched: ApiResponse;
      try {
        created = await createContact({ email });
        patched = await patch(existing.id, { first_name: 'Changed' });
      } finally {
        remove();
      }

      expect(created.status).toBe(500);
      expect(patched.status).toBe(500);
      expect(await t.sql('SELECT id FROM contacts WHERE lower(email) = lower($1)', [email])).toEqual([]);
      expect((await t.sql<{ first_name: string }>('SELECT first_name FROM contacts WHERE id = $1', [existing.id]))[0].first_name).toBe('Kept');
      expect(await countAllEvents()).toBe(eventsBefore);

      expect((await createContact({ email })).status).toBe(201);
      expect((await patch(existing.id, { first_name: 'Changed' })).status).toBe(200);
    });

    it('an event published directly in a rolled-back transaction is not stored', async () => {
      const dataSource = t.app.get(DataSource);
      const publisher = t.app.get(DomainEventPublisher);
      const eventsBefore = await countAllEvents();
      let published: PublishedEvent<'user.created'> | undefined;

      await expect(
        dataSource.transaction(async (manager) => {
          published = await publisher.publish(manager, alice.tenantId, 'user.created', {
            user_id: alice.userId,
            email: alice.email,
            name: 'Phantom',
            role: 'member',
            created_at: new Date().toISOString(),
          });
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');

      expect(published?.id).toEqual(expect.any(String));
      expect(await t.sql('SELECT id FROM domain_events WHERE id = $1', [published!.id])).toEqual([]);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it('publishMany stores its events in one statement, in the order given (seq), and each name\'s listeners get each event', async () => {
      const dataSource = t.app.get(DataSource);
      const publisher = t.app.get(DomainEventPublisher);
      const emitter = t.app.get(EventEmitter2);
      const heard: string[] = [];
      const listener = (event: PublishedEvent<'user.created'>): void => {
        heard.push(event.payload.name);
      };
      const names = ['First', 'Second', 'Third', 'Fourth'];
      emitter.on('user.created', listener);
      let published: PublishedEvent[] = [];
      try {
        published = await dataSource.transaction((manager) =>
          publisher.publishMany(
            manager,
            names.map((name) => ({
              tenantId: alice.tenantId,
              name: 'user.created' as const,
              data: { user_id: alice.userId, email: alice.email, name, role: 'member' as const, created_at: new Date().toISOString() },
            })),
          ),
        );
      } finally {
        emitter.off('user.created', listener);
      }

      expect(heard).toEqual(names);
      const rows = await t.sql<{ id: string; name: string; tx: string }>(
        `SELECT id, payload->>'name' AS name, xmin::text AS tx FROM domain_events WHERE id = ANY($1::uuid[]) ORDER BY seq`,
        [published.map((event) => event.id)],
      );
      expect(rows.map((row) => [row.id, row.name])).toEqual(published.map((event, index) => [event.id, names[index]]));
      expect(new Set(rows.map((row) => row.tx)).size).toBe(1);
      for (const row of await t.sql<StoredEvent>('SELECT id, tenant_id, event_name, payload, occurred_at FROM domain_events WHERE id = ANY($1::uuid[])', [
        published.map((event) => event.id),
      ])) {
        expectCatalogShape(row);
      }
    });

    it('refuses to publish outside a transaction', async () => {
      const dataSource = t.app.get(DataSource);
      const publisher = t.app.get(DomainEventPublisher);
      const eventsBefore = await countAllEvents();
      await expect(
        publisher.publish(dataSource.manager, alice.tenantId, 'user.created', {
          user_id: alice.userId,
          email: alice.email,
          name: 'Outside',
          role: 'member',
          created_at: new Date().toISOString(),
        }),
      ).rejects.toThrow(/inside a transaction/);
      expect(await countAllEvents()).toBe(eventsBefore);
    });

    it.each([
      ['an async listener that rejects', async (): Promise<void> => Promise.reject(new Error('listener failed'))],
      [
        'a synchronous listener that throws',
        (): void => {
          throw new Error('listener failed');
        },
      ],
    ])('%s aborts the write: 500, no contact, no event; removing it restores creates', async (_label, failingListener) => {
      const emitter = t.app.get(EventEmitter2);
      const email = uniqueEmail('listener');
      const eventsBefore = await countAllEvents();

      emitter.on('contact.created', failingListener);
      let response: ApiResponse;
      try {
        response = await createContact({ email });
      } finally {
        emitter.off('contact.created', failingListener);
      }

      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ statusCode: 500, error: 'Internal Server Error' });
      expect(JSON.stringify(response.body)).not.toContain('listener failed');
      expect(await t.sql('SELECT id FROM contacts WHERE lower(email) = lower($1)', [email])).toEqual([]);
      expect(await countAllEvents()).toBe(eventsBefore);
      expect(emitter.listeners('contact.created')).not.toContain(failingListener);

      const retried = await createContact({ email });
      expect(retried.status).toBe(201);
      expect((await eventsAboutContact(retried.body.id)).map((event) => event.event_name)).toEqual(['contact.created']);
    });

    it('a listener receives the event with the write transaction manager, which sees the uncommitted rows', async () => {
      const emitter = t.app.get(EventEmitter2);
      const seen: Array<{ name: string; inTransaction: unknown[]; outside: unknown[]; eventRow: unknown[] }> = [];
      const listener = async (event: PublishedEvent<'contact.created'>): Promise<void> => {
        seen.push({
          name: event.name,
          inTransaction: await event.manager.query('SELECT id FROM contacts WHERE id = $1', [event.payload.contact_id]),
          outside: await t.sql('SELECT id FROM contacts WHERE id = $1', [event.payload.contact_id]),
          eventRow: await event.manager.query('SELECT id FROM domain_events WHERE id = $1', [event.id]),
        });
      };

      // emitAsync awaits what a listener returns, so a promise-returning listener is what the publisher expects.
      const handler = listener as Parameters<EventEmitter2['on']>[1];
      emitter.on('contact.created', handler);
      let created: Record<string, any>;
      try {
        created = await createOk();
      } finally {
        emitter.off('contact.created', handler);
      }

      const [event] = await eventsAboutContact(created.id);
      expect(seen).toEqual([{ name: 'contact.created', inTransaction: [{ id: created.id }], outside: [], eventRow: [{ id: event.id }] }]);
    });
  });

  describe('payloads', () => {
    it('every stored event of a full lifecycle has the catalog example keys and a correct envelope', async () => {
      const account = await registerAccount(t, 'shape-co');
      const member = await t.request('POST', '/api/users', {
        token: account.token,
        body: { email: uniqueEmail('shape-member'), name: 'Shape Member', password: 'correct horse battery staple' },
      });
      expect(member.status).toBe(201);
      const created = await createContact({ first_name: 'Shape', email: uniqueEmail('shape'), custom_fields: { a: 1 } }, account);
      expect(created.status).toBe(201);
      const updated = await t.request('PATCH', `/api/contacts/${created.body.id}`, { token: account.token, body: { phone: '+1 555 0199' } });
      expect(updated.status).toBe(200);
      const bare = await createContact({ company: 'Bare Ltd' }, account);
      expect(bare.status).toBe(201);
      expect((await t.request('DELETE', `/api/contacts/${created.body.id}`, { token: account.token })).status).toBe(204);

      const events = await eventsOf(account.tenantId);
      expect(events.map((event) => event.event_name).sort()).toEqual(
        ['contact.created', 'contact.created', 'contact.deleted', 'contact.updated', 'user.created', 'user.created'].sort(),
      );
      for (const event of events) {
        expectCatalogShape(event);
        expect(event.tenant_id).toBe(account.tenantId);
        expect(Math.abs(event.occurred_at.getTime() - Date.now())).toBeLessThan(60_000);
      }
      expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    });

    it('contact.updated for a multi-field PATCH lists exactly the changed fields with from and to', async () => {
      const created = await createOk({
        first_name: 'Multi',
        last_name: 'Field',
        phone: '+44 20 7946 0958',
        company: 'Unchanged Ltd',
        custom_fields: { utm_campaign: 'summer2026', score: 3 },
      });

      const response = await patch(created.id, {
        first_name: 'Multiple',
        last_name: 'Field',
        company: 'Unchanged Ltd',
        phone: '+44 20 7946 0000',
        custom_fields: { utm_campaign: 'winter2026', score: 3, vip: true },
      });
      expect(response.status).toBe(200);

      const events = await eventsAboutContact(created.id);
      expect(events.map((event) => event.event_name)).toEqual(['contact.created', 'contact.updated']);
      const { payload } = events[1];
      expect(payload.changes).toEqual({
        first_name: { from: 'Multi', to: 'Multiple' },
        phone: { from: '+44 20 7946 0958', to: '+44 20 7946 0000' },
        custom_fields: { from: { utm_campaign: 'summer2026', score: 3 }, to: { utm_campaign: 'winter2026', score: 3, vip: true } },
      });
      const { id, tenant_id: tenantId, ...fields } = response.body as Record<string, unknown>;
      expect(tenantId).toBe(alice.tenantId);
      expect(payload).toEqual({
        event_id: events[1].id,
        event_name: 'contact.updated',
        occurred_at: events[1].occurred_at.toISOString(),
        tenant_id: alice.tenantId,
        contact_id: id,
        ...fields,
        changes: payload.changes,
      });
      expectCatalogShape(events[1]);
    });

    it('contact.updated records a field cleared to null with its old value', async () => {
      const created = await createOk({ source: 'website_form' });
      expect((await patch(created.id, { source: null })).status).toBe(200);
      const [, updated] = await eventsAboutContact(created.id);
      expect(updated.payload.changes).toEqual({ source: { from: 'website_form', to: null } });
      expect(updated.payload.source).toBeNull();
    });

    it('contact.deleted carries the contact as it was before deletion', async () => {
      const created = await createOk({ first_name: 'Doomed', company: 'Gone Ltd', custom_fields: { reason: 'test' } });
      const patched = await patch(created.id, { phone: '+1 555 0123' });
      expect(patched.status).toBe(200);
      const lastSeen = (await t.request('GET', `/api/contacts/${created.id}`, { token: alice.token })).body as Record<string, unknown>;

      expect((await t.request('DELETE', `/api/contacts/${created.id}`, { token: alice.token })).status).toBe(204);

      const events = await eventsAboutContact(created.id);
      const deleted = events.filter((event) => event.event_name === 'contact.deleted');
      expect(deleted).toHaveLength(1);
      const { id, tenant_id: tenantId, ...fields } = lastSeen;
      expect(tenantId).toBe(alice.tenantId);
      expect(deleted[0].payload).toEqual({
        event_id: deleted[0].id,
        event_name: 'contact.deleted',
        occurred_at: deleted[0].occurred_at.toISOString(),
        tenant_id: alice.tenantId,
        contact_id: id,
        ...fields,
      });
      expectCatalogShape(deleted[0]);
    });
  });
});
