import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_CATALOG, type EventName } from '../src/events/event-catalog.js';
import { registerAccount, startTestApp, type RegisteredAccount, type TestApp } from './support/test-app.js';

interface StoredEvent {
  event_name: string;
  payload: Record<string, any>;
}

describe('deals', () => {
  let t: TestApp;
  let acme: RegisteredAccount;
  let globex: RegisteredAccount;

  beforeAll(async () => {
    t = await startTestApp();
    acme = await registerAccount(t, 'acme');
    globex = await registerAccount(t, 'globex');
  });
  afterAll(async () => {
    await t.close();
  });

  const createDeal = async (account: RegisteredAccount, body: Record<string, unknown>): Promise<Record<string, any>> => {
    const response = await t.request('POST', '/api/deals', { token: account.token, body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };
  const createContact = async (account: RegisteredAccount): Promise<string> => {
    const response = await t.request('POST', '/api/contacts', { token: account.token, body: { first_name: 'Jane', email: `${randomUUID()}@example.com` } });
    expect(response.status).toBe(201);
    return response.body.id;
  };
  /** The outbox rows about one deal, oldest first. */
  const eventsOf = (dealId: string): Promise<StoredEvent[]> =>
    t.sql<StoredEvent>(`SELECT event_name, payload FROM domain_events WHERE payload->>'deal_id' = $1 ORDER BY occurred_at, event_name`, [dealId]);
  const expectCatalogShape = (event: StoredEvent): void => {
    const example = EVENT_CATALOG[event.event_name as EventName].example;
    expect(Object.keys(event.payload).sort()).toEqual(Object.keys(example).sort());
  };

  describe('create and read', () => {
    it('creates a deal with defaults and publishes one deal.created', async () => {
      const deal = await createDeal(acme, { title: '  Acme annual plan  ' });
      expect(deal).toMatchObject({ tenant_id: acme.tenantId, title: 'Acme annual plan', value: '0.00', currency: 'USD', stage: 'lead', contact_id: null });

      const events = await eventsOf(deal.id);
      expect(events.map((event) => event.event_name)).toEqual(['deal.created']);
      expectCatalogShape(events[0]);
      expect(events[0].payload).toMatchObject({
        event_name: 'deal.created',
        tenant_id: acme.tenantId,
        deal_id: deal.id,
        title: 'Acme annual plan',
        value: '0.00',
        stage: 'lead',
        created_at: deal.created_at,
      });
    });

    it.each([
      [1200, '1200.00'],
      [1200.5, '1200.50'],
      ['1200', '1200.00'],
      ['1200.5', '1200.50'],
      ['0.99', '0.99'],
      [' 007.10 ', '7.10'],
      [0, '0.00'],
      ['999999999999.99', '999999999999.99'],
    ])('accepts value %j and returns it as the string %s everywhere', async (value, expected) => {
      const deal = await createDeal(acme, { title: 'Money', value });
      expect(deal.value).toBe(expected);
      const fetched = await t.request('GET', `/api/deals/${deal.id}`, { token: acme.token });
      expect(fetched.body.value).toBe(expected);
      const listed = await t.request('GET', '/api/deals', { token: acme.token, query: { limit: 200 } });
      expect(listed.body.data.find((row: { id: string }) => row.id === deal.id).value).toBe(expected);
      const [event] = await eventsOf(deal.id);
      expect(event.payload.value).toBe(expected);
    });

    it('stores all given fields, upper-casing the currency', async () => {
      const contactId = await createContact(acme);
      const deal = await createDeal(acme, { title: 'Big one', value: '5000', currency: 'eur', stage: 'proposal', contact_id: contactId });
      expect(deal).toMatchObject({ value: '5000.00', currency: 'EUR', stage: 'proposal', contact_id: contactId });
      const fetched = await t.request('GET', `/api/deals/${deal.id}`, { token: acme.token });
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(deal);
    });
  });

  describe('validation', () => {
    it.each([
      ['a missing title', {}, 'title'],
      ['an empty title', { title: '   ' }, 'title'],
      ['a title over 200 characters', { title: 'x'.repeat(201) }, 'title'],
      ['an unknown stage', { title: 'T', stage: 'closed' }, 'stage'],
      ['a negative value', { title: 'T', value: -1 }, 'value'],
      ['a negative value string', { title: 'T', value: '-0.50' }, 'value'],
      ['a value with 3 decimals', { title: 'T', value: '12.345' }, 'value'],
      ['a non-numeric value', { title: 'T', value: 'lots' }, 'value'],
      ['a value too large for numeric(14,2)', { title: 'T', value: 1e13 }, 'value'],
      ['a null value', { title: 'T', value: null }, 'value'],
      ['a 2-letter currency', { title: 'T', currency: 'US' }, 'currency'],
      ['a currency with digits', { title: 'T', currency: 'U5D' }, 'currency'],
      ['a malformed contact_id', { title: 'T', contact_id: 'not-a-uuid' }, 'contact_id'],
      ['an unknown field', { title: 'T', probability: 50 }, 'probability'],
    ])('refuses %s with a 400 naming the field', async (_case, body, field) => {
      const response = await t.request('POST', '/api/deals', { token: acme.token, body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
      expect(response.body.message).toEqual(expect.stringContaining(field));
    });

    it.each([
      ['title', { title: null }],
      ['value', { value: null }],
      ['currency', { currency: null }],
      ['stage', { stage: null }],
      ['stage', { stage: 'closed' }],
      ['value', { value: -5 }],
      ['contact_id', { contact_id: 'nope' }],
      ['deal_id', { deal_id: randomUUID() }],
    ])('refuses a PATCH with a bad %s and writes nothing', async (field, body) => {
      const deal = await createDeal(acme, { title: 'Patch target' });
      const response = await t.request('PATCH', `/api/deals/${deal.id}`, { token: acme.token, body });
      expect(response.status).toBe(400);
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
      expect(await eventsOf(deal.id)).toHaveLength(1);
    });

    it('refuses a contact_id of another tenant exactly like a missing one', async () => {
      const foreignContact = await createContact(globex);
      const missing = randomUUID();
      const foreign = await t.request('POST', '/api/deals', { token: acme.token, body: { title: 'T', contact_id: foreignContact } });
      const absent = await t.request('POST', '/api/deals', { token: acme.token, body: { title: 'T', contact_id: missing } });
      expect(foreign.status).toBe(400);
      expect(absent.status).toBe(400);
      expect(foreign.body.details).toEqual([{ field: 'contact_id', message: expect.stringContaining('contact_id') }]);
      expect(foreign.body.message.replace(foreignContact, '<id>')).toBe(absent.body.message.replace(missing, '<id>'));

      const deal = await createDeal(acme, { title: 'T' });
      const patched = await t.request('PATCH', `/api/deals/${deal.id}`, { token: acme.token, body: { contact_id: foreignContact } });
      expect(patched.status).toBe(400);
      expect(patched.body.details[0].field).toBe('contact_id');
      const rows = await t.sql('SELECT count(*)::int AS n FROM deals WHERE contact_id = $1', [foreignContact]);
      expect(rows[0].n).toBe(0);
    });

    it.each(['GET', 'PATCH', 'DELETE'])('answers %s with a malformed id with 400', async (method) => {
      const response = await t.request(method, '/api/deals/not-a-uuid', { token: acme.token, body: method === 'PATCH' ? { title: 'x' } : undefined });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('id');
    });

    it('refuses a bad stage filter on the list', async () => {
      const response = await t.request('GET', '/api/deals', { token: acme.token, query: { stage: 'closed' } });
      expect(response.status).toBe(400);
      expect(response.body.details[0].field).toBe('stage');
    });

    it('requires a bearer token', async () => {
      expect((await t.request('GET', '/api/deals')).status).toBe(401);
    });
  });

  describe('tenant isolation', () => {
    it("answers 404 for another tenant's deal on get, patch and delete, and leaves it alone", async () => {
      const foreign = await createDeal(globex, { title: 'Globex secret', value: 10 });
      for (const [method, body] of [['GET'], ['PATCH', { stage: 'won' }], ['DELETE']] as const) {
        const response = await t.request(method, `/api/deals/${foreign.id}`, { token: acme.token, body });
        expect(response.status, method).toBe(404);
        const missing = await t.request(method, `/api/deals/${randomUUID()}`, { token: acme.token, body });
        expect(missing.status).toBe(404);
        expect(response.body.message.replace(foreign.id, '<id>')).toBe(missing.body.message.replace(/[0-9a-f-]{36}/, '<id>'));
      }
      const stillThere = await t.request('GET', `/api/deals/${foreign.id}`, { token: globex.token });
      expect(stillThere.body).toEqual(foreign);
      expect((await eventsOf(foreign.id)).map((event) => event.event_name)).toEqual(['deal.created']);
    });

    it("leaves another tenant's deals out of lists", async () => {
      const foreign = await createDeal(globex, { title: 'Globex only', stage: 'won' });
      const all = await t.request('GET', '/api/deals', { token: acme.token, query: { limit: 200 } });
      expect(all.body.data.every((deal: { tenant_id: string }) => deal.tenant_id === acme.tenantId)).toBe(true);
      const won = await t.request('GET', '/api/deals', { token: acme.token, query: { stage: 'won', limit: 200 } });
      expect(won.body.data.map((deal: { id: string }) => deal.id)).not.toContain(foreign.id);
    });
  });

  describe('list', () => {
    it('walks every deal once with limit and cursor, newest first', async () => {
      const account = await registerAccount(t, 'pager');
      const created: string[] = [];
      for (let index = 0; index < 7; index += 1) created.push((await createDeal(account, { title: `Deal ${index}` })).id);

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await t.request('GET', '/api/deals', { token: account.token, query: cursor ? { limit: 3, cursor } : { limit: 3 } });
        expect(page.status).toBe(200);
        expect(page.body.data.length).toBeLessThanOrEqual(3);
        seen.push(...page.body.data.map((deal: { id: string }) => deal.id));
        cursor = page.body.next_cursor ?? undefined;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([...created].reverse());
    });

    it('filters by stage and contact_id', async () => {
      const account = await registerAccount(t, 'filters');
      const contactId = await createContact(account);
      const won = await createDeal(account, { title: 'Won', stage: 'won', contact_id: contactId });
      await createDeal(account, { title: 'Lead' });
      const lost = await createDeal(account, { title: 'Lost', stage: 'lost', contact_id: contactId });

      const byStage = await t.request('GET', '/api/deals', { token: account.token, query: { stage: 'won' } });
      expect(byStage.body.data.map((deal: { id: string }) => deal.id)).toEqual([won.id]);
      const byContact = await t.request('GET', '/api/deals', { token: account.token, query: { contact_id: contactId } });
      expect(byContact.body.data.map((deal: { id: string }) => deal.id)).toEqual([lost.id, won.id]);
      expect(byContact.body.next_cursor).toBeNull();
    });

    it('refuses a limit over 200 and a forged cursor', async () => {
      expect((await t.request('GET', '/api/deals', { token: acme.token, query: { limit: 201 } })).status).toBe(400);
      expect((await t.request('GET', '/api/deals', { token: acme.token, query: { cursor: 'forged' } })).status).toBe(400);
    });
  });

  describe('update and delete', () => {
    it('publishes one deal.updated with exactly the changed fields', async () => {
      const contactId = await createContact(acme);
      const deal = await createDeal(acme, { title: 'Old title', value: '100', contact_id: contactId });
      const response = await t.request('PATCH', `/api/deals/${deal.id}`, {
        token: acme.token,
        body: { title: 'New title', value: 250.5, currency: 'USD', contact_id: null },
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ title: 'New title', value: '250.50', currency: 'USD', stage: 'lead', contact_id: null });

      const events = await eventsOf(deal.id);
      expect(events.map((event) => event.event_name)).toEqual(['deal.created', 'deal.updated']);
      const updated = events[1];
      expectCatalogShape(updated);
      expect(updated.payload.changes).toEqual({
        title: { from: 'Old title', to: 'New title' },
        value: { from: '100.00', to: '250.50' },
        contact_id: { from: contactId, to: null },
      });
      expect(updated.payload).toMatchObject({ deal_id: deal.id, title: 'New title', value: '250.50', stage: 'lead', contact_id: null });
    });

    it('publishes deal.updated and deal.stage_changed when the stage moves', async () => {
      const deal = await createDeal(acme, { title: 'Closing', stage: 'negotiation' });
      const response = await t.request('PATCH', `/api/deals/${deal.id}`, { token: acme.token, body: { stage: 'won' } });
      expect(response.status).toBe(200);
      expect(response.body.stage).toBe('won');

      const events = await eventsOf(deal.id);
      expect(events.map((event) => event.event_name).sort()).toEqual(['deal.created', 'deal.stage_changed', 'deal.updated']);
      const updated = events.find((event) => event.event_name === 'deal.updated')!;
      const stageChanged = events.find((event) => event.event_name === 'deal.stage_changed')!;
      expectCatalogShape(updated);
      expectCatalogShape(stageChanged);
      expect(updated.payload).toMatchObject({ stage: 'won', changes: { stage: { from: 'negotiation', to: 'won' } } });
      expect(Object.keys(updated.payload.changes)).toEqual(['stage']);
      expect(stageChanged.payload).toMatchObject({ deal_id: deal.id, stage: 'won', previous_stage: 'negotiation' });
    });

    it('writes and publishes nothing for a PATCH that changes nothing', async () => {
      const contactId = await createContact(acme);
      const deal = await createDeal(acme, { title: 'Same', value: '42.5', currency: 'GBP', stage: 'qualified', contact_id: contactId });
      for (const body of [{}, { title: ' Same ', value: 42.5, currency: 'gbp', stage: 'qualified', contact_id: contactId }, { value: '42.50' }]) {
        const response = await t.request('PATCH', `/api/deals/${deal.id}`, { token: acme.token, body });
        expect(response.status).toBe(200);
        expect(response.body).toEqual(deal);
      }
      expect((await eventsOf(deal.id)).map((event) => event.event_name)).toEqual(['deal.created']);
    });

    it('deletes a deal and publishes deal.deleted with the deal as it was', async () => {
      const deal = await createDeal(acme, { title: 'Doomed', value: 77, stage: 'proposal' });
      const response = await t.request('DELETE', `/api/deals/${deal.id}`, { token: acme.token });
      expect(response.status).toBe(204);
      expect(response.body).toBe('');
      expect((await t.request('GET', `/api/deals/${deal.id}`, { token: acme.token })).status).toBe(404);
      expect((await t.request('DELETE', `/api/deals/${deal.id}`, { token: acme.token })).status).toBe(404);

      const events = await eventsOf(deal.id);
      expect(events.map((event) => event.event_name)).toEqual(['deal.created', 'deal.deleted']);
      expectCatalogShape(events[1]);
      const asItWas = { deal_id: deal.id, title: 'Doomed', value: '77.00', currency: 'USD', stage: 'proposal', contact_id: null };
      expect(events[1].payload).toMatchObject({ ...asItWas, created_at: deal.created_at, updated_at: deal.updated_at, tenant_id: acme.tenantId });
    });

    it('keeps the deal when its contact is deleted, with contact_id cleared', async () => {
      const contactId = await createContact(acme);
      const deal = await createDeal(acme, { title: 'Orphan', contact_id: contactId });
      expect((await t.request('DELETE', `/api/contacts/${contactId}`, { token: acme.token })).status).toBe(204);
      const fetched = await t.request('GET', `/api/deals/${deal.id}`, { token: acme.token });
      expect(fetched.body.contact_id).toBeNull();
    });
  });
});
