import { AppError } from '../src/common/errors/app-error.js';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_CATALOG, type EventName } from '../src/events/event-catalog.js';
import { InvoicesService, type PaidInvoiceInput, type PaidInvoiceResult } from '../src/invoices/invoices.service.js';
import { registerAccount, startTestApp, type RegisteredAccount, type TestApp } from './support/test-app.js';

interface StoredEvent {
  event_name: string;
  payload: Record<string, any>;
}

describe('invoices', () => {
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

  const uniqueNumber = (): string => `INV-${randomUUID().slice(0, 8)}`;
  const createInvoice = async (account: RegisteredAccount, body: Record<string, unknown> = {}): Promise<Record<string, any>> => {
    const response = await t.request('POST', '/api/invoices', { token: account.token, body: { number: uniqueNumber(), amount: '49.00', ...body } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };
  const patch = (account: RegisteredAccount, id: string, body: Record<string, unknown>) =>
    t.request('PATCH', `/api/invoices/${id}`, { token: account.token, body });
  const createContact = async (account: RegisteredAccount): Promise<string> => {
    const response = await t.request('POST', '/api/contacts', { token: account.token, body: { first_name: 'Jane', email: `${randomUUID()}@example.com` } });
    expect(response.status).toBe(201);
    return response.body.id;
  };
  /** The outbox rows about one invoice, oldest first. */
  const eventsOf = (invoiceId: string): Promise<StoredEvent[]> =>
    t.sql<StoredEvent>(`SELECT event_name, payload FROM domain_events WHERE payload->>'invoice_id' = $1 ORDER BY occurred_at, event_name`, [invoiceId]);
  const eventNames = async (invoiceId: string): Promise<string[]> => (await eventsOf(invoiceId)).map((event) => event.event_name).sort();
  const expectCatalogShape = (event: StoredEvent): void => {
    const example = EVENT_CATALOG[event.event_name as EventName].example;
    expect(Object.keys(event.payload).sort()).toEqual(Object.keys(example).sort());
  };
  const upsertPaid = (tenantId: string, input: PaidInvoiceInput): Promise<PaidInvoiceResult> =>
    t.app.get(DataSource).transaction((manager) => t.app.get(InvoicesService).upsertPaidByExternalId(manager, tenantId, input));

  describe('create and read', () => {
    it('creates an open invoice with defaults and publishes one invoice.created', async () => {
      const number = uniqueNumber();
      const invoice = await createInvoice(acme, { number, amount: 49 });
      expect(invoice).toMatchObject({
        tenant_id: acme.tenantId,
        number,
        amount: '49.00',
        currency: 'USD',
        status: 'open',
        contact_id: null,
        external_id: null,
        paid_at: null,
      });
      const events = await eventsOf(invoice.id);
      expect(events.map((event) => event.event_name)).toEqual(['invoice.created']);
      expectCatalogShape(events[0]);
      expect(events[0].payload).toMatchObject({ invoice_id: invoice.id, tenant_id: acme.tenantId, number, amount: '49.00', status: 'open', paid_at: null });

      const fetched = await t.request('GET', `/api/invoices/${invoice.id}`, { token: acme.token });
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(invoice);
    });

    it.each([
      [49, '49.00'],
      [49.9, '49.90'],
      ['1200', '1200.00'],
      ['0.01', '0.01'],
      [' 12.5 ', '12.50'],
    ])('accepts amount %j and returns it as the string %s everywhere', async (amount, expected) => {
      const invoice = await createInvoice(acme, { amount });
      expect(invoice.amount).toBe(expected);
      expect((await t.request('GET', `/api/invoices/${invoice.id}`, { token: acme.token })).body.amount).toBe(expected);
      const listed = await t.request('GET', '/api/invoices', { token: acme.token, query: { limit: 200 } });
      expect(listed.body.data.find((row: { id: string }) => row.id === invoice.id).amount).toBe(expected);
      expect((await eventsOf(invoice.id))[0].payload.amount).toBe(expected);
    });

    it('creates a paid invoice with paid_at now and publishes invoice.created and invoice.paid', async () => {
      const started = Date.now();
      const contactId = await createContact(acme);
      const invoice = await createInvoice(acme, { status: 'paid', currency: 'eur', contact_id: contactId, external_id: `ch_${randomUUID()}` });
      expect(invoice).toMatchObject({ status: 'paid', currency: 'EUR', contact_id: contactId });
      expect(Date.parse(invoice.paid_at)).toBeGreaterThanOrEqual(started - 1000);
      expect(Date.parse(invoice.paid_at)).toBeLessThanOrEqual(Date.now() + 1000);

      const events = await eventsOf(invoice.id);
      expect(events.map((event) => event.event_name).sort()).toEqual(['invoice.created', 'invoice.paid']);
      for (const event of events) {
        expectCatalogShape(event);
        expect(event.payload).toMatchObject({ invoice_id: invoice.id, status: 'paid', paid_at: invoice.paid_at, external_id: invoice.external_id });
      }
    });

    it('keeps a given paid_at', async () => {
      const invoice = await createInvoice(acme, { status: 'paid', paid_at: '2026-01-15T12:30:00+02:00' });
      expect(invoice.paid_at).toBe('2026-01-15T10:30:00.000Z');
    });
  });

  describe('validation', () => {
    it.each([
      ['a missing number', { number: undefined }, 'number'],
      ['an empty number', { number: '  ' }, 'number'],
      ['a number over 64 characters', { number: 'N'.repeat(65) }, 'number'],
      ['a missing amount', { amount: undefined }, 'amount'],
      ['a zero amount', { amount: 0 }, 'amount'],
      ['a zero amount string', { amount: '0.00' }, 'amount'],
      ['a negative amount', { amount: -5 }, 'amount'],
      ['an amount with 3 decimals', { amount: '1.234' }, 'amount'],
      ['a non-numeric amount', { amount: 'ten' }, 'amount'],
      ['a bad currency', { currency: 'EURO' }, 'currency'],
      ['an unknown status', { status: 'refunded' }, 'status'],
      ['a malformed contact_id', { contact_id: '1234' }, 'contact_id'],
      ['an external_id over 200 characters', { external_id: 'x'.repeat(201) }, 'external_id'],
      ['a paid_at that is no date', { paid_at: 'yesterday' }, 'paid_at'],
      ['a paid_at without a time zone', { paid_at: '2026-01-15T10:30:00' }, 'paid_at'],
      ['a paid_at that does not exist', { paid_at: '2026-02-30T10:30:00Z' }, 'paid_at'],
      ['an unknown field', { tax: 10 }, 'tax'],
    ])('refuses %s with a 400 naming the field', async (_case, overrides, field) => {
      const body = JSON.parse(JSON.stringify({ number: uniqueNumber(), amount: '10', ...overrides })) as Record<string, unknown>;
      const response = await t.request('POST', '/api/invoices', { token: acme.token, body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
    });

    it.each([
      ['number', { number: null }],
      ['amount', { amount: null }],
      ['amount', { amount: '-1' }],
      ['currency', { currency: null }],
      ['status', { status: null }],
      ['status', { status: 'draft' }],
      ['paid_at', { paid_at: 'soon' }],
      ['id', { id: randomUUID() }],
    ])('refuses a PATCH with a bad %s', async (field, body) => {
      const invoice = await createInvoice(acme);
      const response = await patch(acme, invoice.id, body);
      expect(response.status).toBe(400);
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
    });

    it('refuses a contact_id of another tenant exactly like a missing one', async () => {
      const foreignContact = await createContact(globex);
      const missing = randomUUID();
      const foreign = await t.request('POST', '/api/invoices', { token: acme.token, body: { number: uniqueNumber(), amount: 1, contact_id: foreignContact } });
      const absent = await t.request('POST', '/api/invoices', { token: acme.token, body: { number: uniqueNumber(), amount: 1, contact_id: missing } });
      expect(foreign.status).toBe(400);
      expect(absent.status).toBe(400);
      expect(foreign.body.details).toEqual([{ field: 'contact_id', message: expect.stringContaining('contact_id') }]);
      expect(foreign.body.message.replace(foreignContact, '<id>')).toBe(absent.body.message.replace(missing, '<id>'));

      const invoice = await createInvoice(acme);
      const patched = await patch(acme, invoice.id, { contact_id: foreignContact });
      expect(patched.status).toBe(400);
      expect(patched.body.details[0].field).toBe('contact_id');
    });

    it.each(['GET', 'PATCH'])('answers %s with a malformed id with 400', async (method) => {
      const response = await t.request(method, '/api/invoices/123', { token: acme.token, body: method === 'PATCH' ? { status: 'paid' } : undefined });
      expect(response.status).toBe(400);
    });

    it('has no DELETE route: invoices are voided instead', async () => {
      const invoice = await createInvoice(acme);
      expect((await t.request('DELETE', `/api/invoices/${invoice.id}`, { token: acme.token })).status).toBe(404);
      expect((await t.request('GET', `/api/invoices/${invoice.id}`, { token: acme.token })).status).toBe(200);
    });
  });

  describe('uniqueness', () => {
    it('refuses a duplicate number with 409 and the existing id; another tenant may reuse it', async () => {
      const number = uniqueNumber();
      const first = await createInvoice(acme, { number });
      const duplicate = await t.request('POST', '/api/invoices', { token: acme.token, body: { number, amount: 5 } });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body).toMatchObject({ statusCode: 409, existing_id: first.id, details: [{ field: 'number' }] });
      await createInvoice(globex, { number });
    });

    it('refuses a duplicate external_id with 409 and the existing id; another tenant may reuse it', async () => {
      const externalId = `in_${randomUUID()}`;
      const first = await createInvoice(acme, { external_id: externalId });
      const duplicate = await t.request('POST', '/api/invoices', { token: acme.token, body: { number: uniqueNumber(), amount: 5, external_id: externalId } });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body).toMatchObject({ existing_id: first.id, details: [{ field: 'external_id' }] });
      await createInvoice(globex, { external_id: externalId });
      const rows = await t.sql('SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1 AND external_id = $2', [acme.tenantId, externalId]);
      expect(rows[0].n).toBe(1);
    });

    it('refuses a PATCH to a taken number or external_id with 409 and changes nothing', async () => {
      const holder = await createInvoice(acme, { external_id: `in_${randomUUID()}` });
      const invoice = await createInvoice(acme);
      const byNumber = await patch(acme, invoice.id, { number: holder.number, amount: 99 });
      expect(byNumber.status).toBe(409);
      expect(byNumber.body.existing_id).toBe(holder.id);
      const byExternal = await patch(acme, invoice.id, { external_id: holder.external_id });
      expect(byExternal.status).toBe(409);
      expect(byExternal.body.existing_id).toBe(holder.id);
      expect((await t.request('GET', `/api/invoices/${invoice.id}`, { token: acme.token })).body).toEqual(invoice);
    });

    it('answers concurrent creates of one number with one 201 and 409s naming it, never a 500', async () => {
      const number = uniqueNumber();
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => t.request('POST', '/api/invoices', { token: acme.token, body: { number, amount: 3 } })),
      );
      const created = responses.filter((response) => response.status === 201);
      expect(created).toHaveLength(1);
      for (const response of responses.filter((candidate) => candidate.status !== 201)) {
        expect(response.status).toBe(409);
        expect(response.body.existing_id).toBe(created[0].body.id);
      }
      const events = await t.sql(`SELECT count(*)::int AS n FROM domain_events WHERE payload->>'number' = $1`, [number]);
      expect(events[0].n).toBe(1);
    });
  });

  describe('status changes', () => {
    it('marks an invoice paid: paid_at set and one invoice.paid', async () => {
      const invoice = await createInvoice(acme);
      const response = await patch(acme, invoice.id, { status: 'paid' });
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('paid');
      expect(response.body.paid_at).toEqual(expect.any(String));
      expect(Math.abs(Date.parse(response.body.paid_at) - Date.now())).toBeLessThan(60_000);

      const events = await eventsOf(invoice.id);
      expect(events.map((event) => event.event_name)).toEqual(['invoice.created', 'invoice.paid']);
      expectCatalogShape(events[1]);
      expect(events[1].payload).toMatchObject({ invoice_id: invoice.id, status: 'paid', paid_at: response.body.paid_at, amount: '49.00' });

      // Paying it again changes nothing and publishes nothing.
      const again = await patch(acme, invoice.id, { status: 'paid' });
      expect(again.body).toEqual(response.body);
      expect(await eventNames(invoice.id)).toEqual(['invoice.created', 'invoice.paid']);
    });

    it('keeps a paid_at given with status=paid', async () => {
      const invoice = await createInvoice(acme);
      const response = await patch(acme, invoice.id, { status: 'paid', paid_at: '2026-03-01T09:00:00Z' });
      expect(response.body).toMatchObject({ status: 'paid', paid_at: '2026-03-01T09:00:00.000Z' });
    });

    it('clears paid_at when leaving paid, and publishes nothing', async () => {
      const invoice = await createInvoice(acme, { status: 'paid' });
      const reopened = await patch(acme, invoice.id, { status: 'open' });
      expect(reopened.body).toMatchObject({ status: 'open', paid_at: null });
      expect(await eventNames(invoice.id)).toEqual(['invoice.created', 'invoice.paid']);
    });

    it('refuses to clear paid_at of a paid invoice', async () => {
      const invoice = await createInvoice(acme, { status: 'paid' });
      const response = await patch(acme, invoice.id, { paid_at: null });
      expect(response.status).toBe(400);
      expect(response.body.details[0].field).toBe('paid_at');
    });

    it('voids an invoice, which then cannot be paid or reopened', async () => {
      const invoice = await createInvoice(acme);
      const voided = await patch(acme, invoice.id, { status: 'void' });
      expect(voided.status).toBe(200);
      expect(voided.body.status).toBe('void');
      for (const status of ['paid', 'open']) {
        const refused = await patch(acme, invoice.id, { status });
        expect(refused.status).toBe(409);
        expect(refused.body.message).toContain('void');
      }
      expect((await t.request('GET', `/api/invoices/${invoice.id}`, { token: acme.token })).body).toEqual(voided.body);
      expect(await eventNames(invoice.id)).toEqual(['invoice.created']);
    });

    it('stores other changes without an event, and writes nothing for a PATCH that changes nothing', async () => {
      const contactId = await createContact(acme);
      const invoice = await createInvoice(acme, { amount: '10.5', contact_id: contactId, external_id: `in_${randomUUID()}` });
      const unchanged = await patch(acme, invoice.id, { amount: 10.5, currency: 'usd', contact_id: contactId, number: ` ${invoice.number} ` });
      expect(unchanged.body).toEqual(invoice);

      const changed = await patch(acme, invoice.id, { amount: '12', contact_id: null, external_id: null });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ amount: '12.00', contact_id: null, external_id: null, status: 'open' });
      expect(Date.parse(changed.body.updated_at)).toBeGreaterThan(Date.parse(invoice.updated_at));
      expect(await eventNames(invoice.id)).toEqual(['invoice.created']);
    });
  });

  describe('tenant isolation and lists', () => {
    it("answers 404 for another tenant's invoice on get and patch, and leaves it out of lists", async () => {
      const foreign = await createInvoice(globex, { external_id: `in_${randomUUID()}` });
      expect((await t.request('GET', `/api/invoices/${foreign.id}`, { token: acme.token })).status).toBe(404);
      expect((await patch(acme, foreign.id, { status: 'void' })).status).toBe(404);
      expect((await t.request('GET', `/api/invoices/${randomUUID()}`, { token: acme.token })).status).toBe(404);

      const listed = await t.request('GET', '/api/invoices', { token: acme.token, query: { limit: 200 } });
      expect(listed.body.data.every((invoice: { tenant_id: string }) => invoice.tenant_id === acme.tenantId)).toBe(true);
      const byExternal = await t.request('GET', '/api/invoices', { token: acme.token, query: { external_id: foreign.external_id } });
      expect(byExternal.body).toEqual({ data: [], next_cursor: null });
      expect((await t.request('GET', `/api/invoices/${foreign.id}`, { token: globex.token })).body).toEqual(foreign);
      expect(await eventNames(foreign.id)).toEqual(['invoice.created']);
    });

    it('filters by status, contact_id and external_id, and pages with a cursor', async () => {
      const account = await registerAccount(t, 'ledger');
      const contactId = await createContact(account);
      const ids: string[] = [];
      for (let index = 0; index < 5; index += 1) ids.push((await createInvoice(account, { external_id: `ext-${index}` })).id);
      const paid = await createInvoice(account, { status: 'paid', contact_id: contactId });
      ids.push(paid.id);

      const byStatus = await t.request('GET', '/api/invoices', { token: account.token, query: { status: 'paid' } });
      expect(byStatus.body.data.map((invoice: { id: string }) => invoice.id)).toEqual([paid.id]);
      const byContact = await t.request('GET', '/api/invoices', { token: account.token, query: { contact_id: contactId } });
      expect(byContact.body.data.map((invoice: { id: string }) => invoice.id)).toEqual([paid.id]);
      const byExternal = await t.request('GET', '/api/invoices', { token: account.token, query: { external_id: 'ext-3' } });
      expect(byExternal.body.data.map((invoice: { id: string }) => invoice.id)).toEqual([ids[3]]);
      expect((await t.request('GET', '/api/invoices', { token: account.token, query: { status: 'late' } })).status).toBe(400);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await t.request('GET', '/api/invoices', { token: account.token, query: cursor ? { limit: 4, cursor } : { limit: 4 } });
        expect(page.status).toBe(200);
        seen.push(...page.body.data.map((invoice: { id: string }) => invoice.id));
        cursor = page.body.next_cursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    });
  });

  describe('upsertPaidByExternalId', () => {
    it('creates the invoice paid, then leaves it unchanged', async () => {
      const externalId = `pi_${randomUUID()}`;
      const contactId = await createContact(acme);
      const created = await upsertPaid(acme.tenantId, { externalId, amount: '99.5', currency: 'usd', contactId });
      expect(created.action).toBe('created');
      expect(created.invoice).toMatchObject({ number: `INV-${externalId}`, amount: '99.50', currency: 'USD', status: 'paid', contactId, externalId });
      expect(created.invoice.paidAt).toBeInstanceOf(Date);
      expect(await eventNames(created.invoice.id)).toEqual(['invoice.created', 'invoice.paid']);
      for (const event of await eventsOf(created.invoice.id)) expectCatalogShape(event);

      const again = await upsertPaid(acme.tenantId, { externalId, amount: 99.5, currency: 'USD', contactId });
      expect(again.action).toBe('unchanged');
      expect(again.invoice.id).toBe(created.invoice.id);
      expect(await eventNames(created.invoice.id)).toEqual(['invoice.created', 'invoice.paid']);
    });

    it('marks an existing open invoice paid', async () => {
      const externalId = `in_${randomUUID()}`;
      const invoice = await createInvoice(acme, { external_id: externalId, number: 'CUSTOM-1' });
      const result = await upsertPaid(acme.tenantId, { externalId, amount: 49, currency: 'USD' });
      expect(result.action).toBe('paid');
      expect(result.invoice).toMatchObject({ id: invoice.id, number: 'CUSTOM-1', status: 'paid' });
      expect(result.invoice.paidAt).toBeInstanceOf(Date);
      expect(await eventNames(invoice.id)).toEqual(['invoice.created', 'invoice.paid']);
    });

    it('uses the given number, or a random one when INV-<external id> is taken', async () => {
      const externalId = `x${randomUUID().slice(0, 8)}`;
      await createInvoice(acme, { number: `INV-${externalId}` });
      const result = await upsertPaid(acme.tenantId, { externalId, amount: 1, currency: 'USD' });
      expect(result.action).toBe('created');
      expect(result.invoice.number).toMatch(/^INV-[0-9A-F]{12}$/);

      const given = await upsertPaid(acme.tenantId, { externalId: `y${externalId}`, amount: 1, currency: 'USD', number: 'GIVEN-7' });
      expect(given.invoice.number).toBe('GIVEN-7');
    });

    it('refuses a void invoice and leaves nothing behind when the transaction rolls back', async () => {
      const externalId = `in_${randomUUID()}`;
      const invoice = await createInvoice(acme, { external_id: externalId, status: 'void' });
      await expect(upsertPaid(acme.tenantId, { externalId, amount: 49, currency: 'USD' })).rejects.toMatchObject({ code: 'INVOICE_VOID' });
      await expect(upsertPaid(acme.tenantId, { externalId, amount: 49, currency: 'USD' })).rejects.toBeInstanceOf(AppError);

      const rolledBack = `in_${randomUUID()}`;
      await expect(
        t.app.get(DataSource).transaction(async (manager) => {
          await t.app.get(InvoicesService).upsertPaidByExternalId(manager, acme.tenantId, { externalId: rolledBack, amount: 5, currency: 'USD' });
          throw new Error('handler failed after the upsert');
        }),
      ).rejects.toThrow('handler failed');
      expect(await t.sql('SELECT id FROM invoices WHERE external_id = $1', [rolledBack])).toEqual([]);
      expect(await t.sql(`SELECT id FROM domain_events WHERE payload->>'external_id' = $1`, [rolledBack])).toEqual([]);
      expect(await eventNames(invoice.id)).toEqual(['invoice.created']);
    });

    it('creates one invoice when two payments of it arrive at once', async () => {
      const externalId = `pi_${randomUUID()}`;
      const results = await Promise.all([1, 2, 3].map(() => upsertPaid(acme.tenantId, { externalId, amount: 20, currency: 'USD' })));
      expect(results.map((result) => result.action).sort()).toEqual(['created', 'unchanged', 'unchanged']);
      expect(new Set(results.map((result) => result.invoice.id)).size).toBe(1);
      expect(await eventNames(results[0].invoice.id)).toEqual(['invoice.created', 'invoice.paid']);
    });

    it('refuses a bad amount or currency', async () => {
      await expect(upsertPaid(acme.tenantId, { externalId: `in_${randomUUID()}`, amount: 0, currency: 'USD' })).rejects.toThrow('amount');
      await expect(upsertPaid(acme.tenantId, { externalId: `in_${randomUUID()}`, amount: 5, currency: 'dollars' })).rejects.toThrow('currency');
    });
  });
});
