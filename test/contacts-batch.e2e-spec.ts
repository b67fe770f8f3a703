import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, startTestApp, type ApiResponse, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { uniqueEmail } from './support/helpers.js';

const BATCH = '/api/contacts/batch';

describe('POST /api/contacts/batch', () => {
  let t: TestApp;
  let alice: RegisteredAccount;
  let bob: RegisteredAccount;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerAccount(t, 'batch-alice');
    bob = await registerAccount(t, 'batch-bob');
  });
  afterAll(async () => {
    await t?.close();
  });

  const email = (prefix = 'batch'): string => uniqueEmail(prefix);

  const batch = (contacts: unknown, options: { account?: RegisteredAccount; atomic?: boolean } = {}): Promise<ApiResponse> =>
    t.request('POST', BATCH, {
      token: (options.account ?? alice).token,
      body: { contacts },
      query: options.atomic === undefined ? undefined : { atomic: options.atomic },
    });

  const createContact = async (account: RegisteredAccount, body: Record<string, unknown>): Promise<Record<string, any>> => {
    const response = await t.request('POST', '/api/contacts', { token: account.token, body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };

  const eventsAbout = async (contactId: string): Promise<Array<{ event_name: string; payload: Record<string, any> }>> =>
    t.sql(`SELECT event_name, payload FROM domain_events WHERE payload->>'contact_id' = $1 ORDER BY seq`, [contactId]);

  const counts = async (tenantId: string): Promise<{ contacts: number; events: number }> => {
    const [row] = await t.sql<{ contacts: number; events: number }>(
      `SELECT (SELECT count(*)::int FROM contacts WHERE tenant_id = $1) AS contacts, (SELECT count(*)::int FROM domain_events WHERE tenant_id = $1) AS events`,
      [tenantId],
    );
    return row;
  };

  it('creates, updates and leaves unchanged by email (any case), one result per item in order, one event per effective change', async () => {
    const existing = await createContact(alice, { email: email('Known').replace('known', 'Known'), first_name: 'Ann', company: 'Old Ltd' });
    const same = await createContact(alice, { email: email('same'), first_name: 'Sam' });
    const fresh = email('new');
    const response = await batch([
      { email: fresh, first_name: 'Nina', source: 'import' },
      { email: existing.email.toUpperCase(), company: 'New Ltd' },
      { email: same.email, first_name: 'Sam' },
    ]);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const [created, updated, unchanged] = response.body.results;
    expect(response.body.results.map((r: any) => [r.index, r.status])).toEqual([
      [0, 'created'],
      [1, 'updated'],
      [2, 'unchanged'],
    ]);
    expect(response.body.summary).toEqual({ created: 1, updated: 1, unchanged: 1, error: 0 });
    expect(created.contact).toMatchObject({ email: fresh, first_name: 'Nina', source: 'import', tenant_id: alice.tenantId });
    expect(updated.id).toBe(existing.id);
    // The match ignores case and keeps the stored email as it was.
    expect(updated.contact).toMatchObject({ email: existing.email, company: 'New Ltd', first_name: 'Ann' });
    expect(unchanged.id).toBe(same.id);

    expect((await eventsAbout(created.id)).map((e) => e.event_name)).toEqual(['contact.created']);
    const updates = await eventsAbout(existing.id);
    expect(updates.map((e) => e.event_name)).toEqual(['contact.created', 'contact.updated']);
    expect(updates[1].payload.changes).toEqual({ company: { from: 'Old Ltd', to: 'New Ltd' } });
    expect((await eventsAbout(same.id)).map((e) => e.event_name)).toEqual(['contact.created']);
  });

  it('reports bad items as errors with code and details, and writes the others', async () => {
    const good = email('good');
    const before = await counts(alice.tenantId);
    const response = await batch([
      { email: 'not-an-email' },
      { first_name: 'No Email' },
      'just a string',
      { email: good, first_name: 'Gail' },
      { email: email('extra'), favourite_colour: 'blue' },
      { email: email('cf'), custom_fields: null },
    ]);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const results = response.body.results;
    expect(results.map((r: any) => r.status)).toEqual(['error', 'error', 'error', 'created', 'error', 'error']);
    for (const failed of results.filter((r: any) => r.status === 'error')) {
      expect(failed.code).toBe('VALIDATION_FAILED');
      expect(failed.details.length).toBeGreaterThan(0);
      expect(failed.id).toBeUndefined();
    }
    expect(results[0].details[0]).toMatchObject({ field: 'email' });
    expect(results[0].message).toContain('email must be an email address');
    expect(results[1].message).toBe('email is required');
    expect(results[2].details[0].field).toBe('contacts[2]');
    expect(results[4].message).toContain('favourite_colour');
    expect(results[5].message).toContain('custom_fields must be a JSON object');
    expect(response.body.summary).toEqual({ created: 1, updated: 0, unchanged: 0, error: 5 });
    const after = await counts(alice.tenantId);
    expect(after).toEqual({ contacts: before.contacts + 1, events: before.events + 1 });
  });

  it('with ?atomic=true writes nothing when one item is bad, and answers 400 naming it', async () => {
    const before = await counts(alice.tenantId);
    const response = await batch([{ email: email('a1') }, { email: email('a2') }, { email: 'broken' }], { atomic: true });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain('Nothing was written (atomic=true): contacts[2]');
    expect(response.body.details[0].field).toBe('contacts[2].email');
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(await counts(alice.tenantId)).toEqual(before);

    const ok = await batch([{ email: email('a3') }, { email: email('a4') }], { atomic: true });
    expect(ok.status).toBe(200);
    expect(ok.body.summary.created).toBe(2);
  });

  it('treats the same email twice in one batch as create then update', async () => {
    const address = email('twice');
    const response = await batch([
      { email: address, first_name: 'First' },
      { email: address.toUpperCase(), first_name: 'Second' },
      { email: address, first_name: 'Second' },
    ]);
    expect(response.body.results.map((r: any) => r.status)).toEqual(['created', 'updated', 'unchanged']);
    const ids = new Set(response.body.results.map((r: any) => r.id));
    expect(ids.size).toBe(1);
    const [id] = ids as Set<string>;
    expect((await eventsAbout(id)).map((e) => e.event_name)).toEqual(['contact.created', 'contact.updated']);
  });

  it("never touches another tenant's contacts: the same email in another tenant is a new contact here, ids are refused", async () => {
    const bobs = await createContact(bob, { email: email('shared'), first_name: 'Bob' });
    const response = await batch([{ email: bobs.email, first_name: 'Alice copy' }, { id: bobs.id, email: bobs.email }]);
    expect(response.body.results[0].status).toBe('created');
    expect(response.body.results[0].id).not.toBe(bobs.id);
    expect(response.body.results[0].contact.tenant_id).toBe(alice.tenantId);
    expect(response.body.results[1]).toMatchObject({ status: 'error', code: 'VALIDATION_FAILED' });
    const stillBobs = await t.request('GET', `/api/contacts/${bobs.id}`, { token: bob.token });
    expect(stillBobs.body.first_name).toBe('Bob');
  });

  it('takes up to 500 contacts in one request and refuses 501, an empty list or a non-list', async () => {
    const contacts = Array.from({ length: 500 }, (_, i) => ({ email: email(`bulk${i}`), first_name: `Bulk ${i}` }));
    const response = await batch(contacts);
    expect(response.status).toBe(200);
    expect(response.body.summary).toEqual({ created: 500, updated: 0, unchanged: 0, error: 0 });
    expect(response.body.results.map((r: any) => r.index)).toEqual(contacts.map((_, i) => i));

    const tooMany = await batch([...contacts, { email: email('one-more') }]);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain('at most 500');
    expect((await batch([])).status).toBe(400);
    expect((await batch({ email: email() })).status).toBe(400);
    const missing = await t.request('POST', BATCH, { token: alice.token, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toBe('contacts is required');
    expect((await t.request('POST', BATCH, { body: { contacts: [] } })).status).toBe(401);
    const badFlag = await t.request('POST', BATCH, { token: alice.token, body: { contacts: [{ email: email() }] }, query: { atomic: 'yes' } });
    expect(badFlag.status).toBe(400);
  });

  it('is in the OpenAPI document', async () => {
    const openapi = await t.request('GET', '/api/docs-json');
    expect(openapi.body.paths['/api/contacts/batch'].post).toBeDefined();
    expect(openapi.body.components.schemas.ContactBatchResponseDto).toBeDefined();
  });
});
