import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, startTestApp, type ApiResponse, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { ISO_UTC, uniqueEmail, UUID } from './support/helpers.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const CONTACT_FIELDS = [
  'company',
  'created_at',
  'custom_fields',
  'email',
  'first_name',
  'id',
  'last_name',
  'phone',
  'source',
  'tenant_id',
  'updated_at',
];

/** The opaque cursor format, forged so the service's own checks pass but the values are wrong. */
function forgeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

describe('contacts', () => {
  let t: TestApp;
  let alice: RegisteredAccount;
  let bob: RegisteredAccount;

  const createContact = (account: RegisteredAccount, body: Record<string, unknown>): Promise<ApiResponse> =>
    t.request('POST', '/api/contacts', { token: account.token, body });

  /** Creates a contact that must succeed, and returns its body. */
  const createOk = async (account: RegisteredAccount, body: Record<string, unknown> = {}): Promise<Record<string, any>> => {
    const response = await createContact(account, { email: uniqueEmail('contact'), ...body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as Record<string, any>;
  };

  const listIds = async (account: RegisteredAccount, query: Record<string, string | number>): Promise<string[]> => {
    const response = await t.request('GET', '/api/contacts', { token: account.token, query: { limit: 200, ...query } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return (response.body.data as Array<{ id: string }>).map((contact) => contact.id);
  };

  beforeAll(async () => {
    t = await startTestApp();
    alice = await registerAccount(t, 'alice-co');
    bob = await registerAccount(t, 'bob-co');
  });

  afterAll(async () => {
    await t.close();
  });

  describe('create, get, list, update, delete', () => {
    it('creates a contact with 201 and answers every field in snake_case', async () => {
      const email = uniqueEmail('john');
      const response = await createContact(alice, {
        first_name: 'John',
        last_name: 'Doe',
        email,
        phone: '+44 20 7946 0958',
        company: 'Acme Ltd',
        source: 'website_form',
        custom_fields: { utm_campaign: 'summer2026' },
      });

      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(CONTACT_FIELDS);
      expect(response.body).toMatchObject({
        tenant_id: alice.tenantId,
        first_name: 'John',
        last_name: 'Doe',
        email,
        phone: '+44 20 7946 0958',
        company: 'Acme Ltd',
        source: 'website_form',
        custom_fields: { utm_campaign: 'summer2026' },
      });
      expect(response.body.id).toMatch(UUID);
      expect(response.body.created_at).toMatch(ISO_UTC);
      expect(response.body.updated_at).toMatch(ISO_UTC);

      const rows = await t.sql('SELECT tenant_id, first_name, email, custom_fields FROM contacts WHERE id = $1', [response.body.id]);
      expect(rows).toEqual([{ tenant_id: alice.tenantId, first_name: 'John', email, custom_fields: { utm_campaign: 'summer2026' } }]);
    });

    it('round-trips nested custom_fields through the jsonb column unchanged', async () => {
      const customFields = {
        plan: 'pro',
        seats: 12,
        ratio: 0.75,
        trial: false,
        referrer: null,
        tags: ['vip', 'beta', 3],
        address: { city: 'Zürich', lines: ['Bahnhofstrasse 1'], geo: { lat: 47.37, lng: 8.54 } },
        'key with spaces': '🚀 "quoted" \\ back',
      };
      const created = await createOk(alice, { custom_fields: customFields });
      expect(created.custom_fields).toEqual(customFields);

      const fetched = await t.request('GET', `/api/contacts/${created.id}`, { token: alice.token });
      expect(fetched.body.custom_fields).toEqual(customFields);

      const [row] = await t.sql('SELECT custom_fields, jsonb_typeof(custom_fields) AS type FROM contacts WHERE id = $1', [created.id]);
      expect(row).toEqual({ custom_fields: customFields, type: 'object' });
    });

    it('defaults custom_fields to an empty object and fields not given to null', async () => {
      const email = uniqueEmail('bare');
      const created = await createOk(alice, { email });
      expect(created).toMatchObject({ email, first_name: null, last_name: null, phone: null, company: null, source: null, custom_fields: {} });
    });

    it('gets a contact by id with the same body the create returned', async () => {
      const created = await createOk(alice, { first_name: 'Gina', company: 'Getters' });
      const response = await t.request('GET', `/api/contacts/${created.id}`, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(created);
    });

    it('lists the tenant contacts newest first as {data, next_cursor}', async () => {
      const first = await createOk(alice, { first_name: 'Older' });
      const second = await createOk(alice, { first_name: 'Newer' });

      const response = await t.request('GET', '/api/contacts', { token: alice.token, query: { limit: 200 } });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['data', 'next_cursor']);
      expect(response.body.next_cursor).toBeNull();
      const data = response.body.data as Array<{ id: string; created_at: string }>;
      expect(data.find((contact) => contact.id === first.id)).toEqual(first);
      expect(data.find((contact) => contact.id === second.id)).toEqual(second);
      // Newest first; two contacts created in the same millisecond are ordered by id, as the keyset is.
      const expected = await t.sql<{ id: string }>('SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC', [alice.tenantId]);
      expect(data.map((contact) => contact.id)).toEqual(expected.map((row) => row.id));
      if (second.created_at > first.created_at) expect(data.findIndex((c) => c.id === second.id)).toBeLessThan(data.findIndex((c) => c.id === first.id));
    });

    it('PATCH changes only the fields given and moves updated_at forward', async () => {
      const created = await createOk(alice, { first_name: 'Pat', last_name: 'Old', company: 'Keep Co', custom_fields: { a: 1 } });
      const response = await t.request('PATCH', `/api/contacts/${created.id}`, {
        token: alice.token,
        body: { last_name: 'New', custom_fields: { b: 2 } },
      });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        ...created,
        last_name: 'New',
        custom_fields: { b: 2 },
        updated_at: response.body.updated_at,
      });
      expect(Date.parse(response.body.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));

      const fetched = await t.request('GET', `/api/contacts/${created.id}`, { token: alice.token });
      expect(fetched.body).toEqual(response.body);
    });

    it('PATCH with null clears an optional field', async () => {
      const created = await createOk(alice, { phone: '+1 555 0100', company: 'Clearable' });
      const response = await t.request('PATCH', `/api/contacts/${created.id}`, { token: alice.token, body: { phone: null } });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ phone: null, company: 'Clearable' });
    });

    it('DELETE answers 204 with no body, then the contact is 404 on get, patch and delete', async () => {
      const created = await createOk(alice, { first_name: 'Gone' });
      const deleted = await t.request('DELETE', `/api/contacts/${created.id}`, { token: alice.token });
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBe('');

      const get = await t.request('GET', `/api/contacts/${created.id}`, { token: alice.token });
      const patch = await t.request('PATCH', `/api/contacts/${created.id}`, { token: alice.token, body: { first_name: 'Back' } });
      const again = await t.request('DELETE', `/api/contacts/${created.id}`, { token: alice.token });
      expect([get.status, patch.status, again.status]).toEqual([404, 404, 404]);
      expect(get.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      expect(await t.sql('SELECT 1 FROM contacts WHERE id = $1', [created.id])).toEqual([]);
      expect(await listIds(alice, { email: created.email })).toEqual([]);
    });

    it('requires a bearer token', async () => {
      const response = await t.request('GET', '/api/contacts');
      expect(response.status).toBe(401);
    });
  });

  describe('email uniqueness', () => {
    it('rejects a duplicate email in another case with 409 whose existing_id is the first contact', async () => {
      const email = uniqueEmail('dup');
      const first = await createOk(alice, { email });

      const response = await createContact(alice, { email: email.toUpperCase(), first_name: 'Twin' });

      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ statusCode: 409, error: 'Conflict', existing_id: first.id });
      expect(response.body.message).toContain(first.id);
      expect(response.body.details).toEqual([expect.objectContaining({ field: 'email' })]);
      const rows = await t.sql('SELECT id FROM contacts WHERE tenant_id = $1 AND lower(email) = lower($2)', [alice.tenantId, email]);
      expect(rows).toEqual([{ id: first.id }]);
    });

    it('allows the same email in another tenant', async () => {
      const email = uniqueEmail('shared');
      const inAlice = await createOk(alice, { email });
      const inBob = await createOk(bob, { email });
      expect(inBob.id).not.toBe(inAlice.id);
      expect(inBob.tenant_id).toBe(bob.tenantId);
    });

    it('rejects a PATCH to an email another contact of the tenant holds with 409 and its existing_id', async () => {
      const holder = await createOk(alice);
      const other = await createOk(alice);

      const response = await t.request('PATCH', `/api/contacts/${other.id}`, {
        token: alice.token,
        body: { email: (holder.email as string).toUpperCase() },
      });

      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ statusCode: 409, existing_id: holder.id });
      const [row] = await t.sql('SELECT email FROM contacts WHERE id = $1', [other.id]);
      expect(row.email).toBe(other.email);
    });

    it('allows a PATCH that changes only the case of the contact own email', async () => {
      const created = await createOk(alice, { email: uniqueEmail('casey') });
      const upper = (created.email as string).toUpperCase();
      const response = await t.request('PATCH', `/api/contacts/${created.id}`, { token: alice.token, body: { email: upper } });
      expect(response.status).toBe(200);
      expect(response.body.email).toBe(upper);
    });

    it('frees the email of a deleted contact for a new one', async () => {
      const email = uniqueEmail('reuse');
      const first = await createOk(alice, { email });
      expect((await t.request('DELETE', `/api/contacts/${first.id}`, { token: alice.token })).status).toBe(204);
      const second = await createOk(alice, { email });
      expect(second.id).not.toBe(first.id);
    });

    it('allows many contacts without an email', async () => {
      const one = await createContact(alice, { first_name: 'No email 1' });
      const two = await createContact(alice, { first_name: 'No email 2', email: '' });
      expect([one.status, two.status]).toEqual([201, 201]);
      expect([one.body.email, two.body.email]).toEqual([null, null]);
    });

    it('answers concurrent creates of the same email with one 201 and 409s naming the winner', async () => {
      for (let round = 0; round < 3; round += 1) {
        const email = uniqueEmail('race');
        const responses = await Promise.all(Array.from({ length: 20 }, () => createContact(alice, { email })));

        const winners = responses.filter((response) => response.status === 201);
        expect(winners).toHaveLength(1);
        for (const response of responses.filter((candidate) => candidate.status !== 201)) {
          expect(response.status).toBe(409);
          expect(response.body.existing_id).toBe(winners[0].body.id);
        }
      }
    });

    it('answers concurrent PATCHes of different contacts to the same email with one 200 and 409s', async () => {
      for (let round = 0; round < 3; round += 1) {
        const targets = await Promise.all(Array.from({ length: 20 }, () => createOk(alice)));
        const email = uniqueEmail('patch-race');
        const responses = await Promise.all(
          targets.map((target) => t.request('PATCH', `/api/contacts/${target.id}`, { token: alice.token, body: { email } })),
        );

        const winners = responses.filter((response) => response.status === 200);
        expect(winners).toHaveLength(1);
        for (const response of responses.filter((candidate) => candidate.status !== 200)) {
          expect(response.status).toBe(409);
          expect(response.body.existing_id).toBe(winners[0].body.id);
        }
      }
    });
  });

  describe('creates that arrive together', () => {
    it('share transactions (one INSERT, one event insert, one fan-out each), yet each is answered with its own contact, event and deliveries; a repeated email gets its own 409', async () => {
      const receiver = await new WebhookReceiver().start();
      try {
        const subscribe = async (account: RegisteredAccount, path: string): Promise<string> => {
          const response = await t.request('POST', '/api/webhooks/subscriptions', { token: account.token, body: { event_name: 'contact.created', target_url: receiver.url(path) } });
          expect(response.status, JSON.stringify(response.body)).toBe(201);
          return response.body.id as string;
        };
        const subscriptionOf = new Map([
          [alice.tenantId, await subscribe(alice, '/together-alice')],
          [bob.tenantId, await subscribe(bob, '/together-bob')],
        ]);
        const run = randomUUID();
        const repeated = uniqueEmail('together-repeat');
        // Alice's and Bob's creates interleaved; two of Alice's name the same email.
        const requests = Array.from({ length: 60 }, (_, i) => ({
          account: i % 3 === 2 ? bob : alice,
          body: { email: i === 6 || i === 7 ? repeated : uniqueEmail(`together-${i}`), first_name: `n${i}`, company: run },
        }));
        const responses = await Promise.all(requests.map(({ account, body }) => createContact(account, body)));

        const refused = responses.filter((response) => response.status !== 201);
        expect(refused.map((response) => response.status)).toEqual([409]);
        const winner = [responses[6], responses[7]].find((response) => response.status === 201)!;
        expect(refused[0].body).toMatchObject({ code: 'CONTACT_EMAIL_TAKEN', existing_id: winner.body.id });
        responses.forEach((response, i) => {
          if (response.status !== 201) return;
          expect(response.body).toMatchObject({ tenant_id: requests[i].account.tenantId, email: requests[i].body.email, first_name: `n${i}`, company: run });
        });

        const rows = await t.sql<{ id: string; tenant_id: string; first_name: string; tx: string; events: Array<{ tenant_id: string; tx: string }>; deliveries: string[] }>(
          `SELECT c.id, c.tenant_id, c.first_name, c.xmin::text AS tx,
                  (SELECT coalesce(json_agg(json_build_object('tenant_id', e.tenant_id, 'tx', e.xmin::text)), '[]') FROM domain_events e
                    WHERE e.event_name = 'contact.created' AND e.payload->>'contact_id' = c.id::text) AS events,
                  (SELECT coalesce(json_agg(d.subscription_id), '[]') FROM webhook_deliveries d JOIN domain_events e ON e.id = d.event_id
                    WHERE e.payload->>'contact_id' = c.id::text) AS deliveries
             FROM contacts c WHERE c.company = $1`,
          [run],
        );
        expect(rows).toHaveLength(59);
        const byId = new Map(rows.map((row) => [row.id, row]));
        for (const response of responses.filter((candidate) => candidate.status === 201)) {
          const row = byId.get(response.body.id)!;
          expect(row.first_name).toBe(response.body.first_name);
          // One contact.created of its own tenant, committed with it, and one delivery to its own tenant's subscription.
          expect(row.events).toEqual([{ tenant_id: row.tenant_id, tx: row.tx }]);
          expect(row.deliveries).toEqual([subscriptionOf.get(row.tenant_id)]);
        }
        // …written in far fewer transactions than requests.
        expect(new Set(rows.map((row) => row.tx)).size).toBeLessThan(30);
      } finally {
        await receiver.stop();
      }
    });
  });

  describe('validation', () => {
    const longName = 'x'.repeat(201);
    const badBodies: Array<[string, Record<string, unknown>, string]> = [
      ['a malformed email', { email: 'not-an-email' }, 'email'],
      ['custom_fields given as an array', { custom_fields: ['a', 'b'] }, 'custom_fields'],
      ['custom_fields given as a string', { custom_fields: '{"a":1}' }, 'custom_fields'],
      ['custom_fields given as a number', { custom_fields: 42 }, 'custom_fields'],
      ['an unknown field', { email: 'valid@example.com', favourite_colour: 'blue' }, 'favourite_colour'],
      ['a first_name longer than 200 characters', { first_name: longName }, 'first_name'],
      ['a first_name that is not a string', { first_name: 123 }, 'first_name'],
    ];

    it.each(badBodies)('rejects a create with %s with 400 whose details name the field', async (_label, body, field) => {
      const before = await t.sql('SELECT count(*)::int AS n FROM contacts');
      const response = await createContact(alice, body);

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(typeof response.body.message).toBe('string');
      expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await t.sql('SELECT count(*)::int AS n FROM contacts')).toEqual(before);
    });

    it.each(badBodies)('rejects a PATCH with %s with 400 whose details name the field and leaves the contact as it was', async (_label, body, field) => {
      const created = await createOk(alice, { first_name: 'Valid' });
      const response = await t.request('PATCH', `/api/contacts/${created.id}`, { token: alice.token, body });

      expect(response.status).toBe(400);
      expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      const fetched = await t.request('GET', `/api/contacts/${created.id}`, { token: alice.token });
      expect(fetched.body).toEqual(created);
    });

    it('answers custom_fields: null with a 4xx or as an empty object, never a 5xx', async () => {
      const response = await createContact(alice, { email: uniqueEmail('nullfields'), custom_fields: null });
      expect(response.status).toBeLessThan(500);
      if (response.status === 201) expect(response.body.custom_fields).toEqual({});
      else expect(response.body.details).toEqual([expect.objectContaining({ field: 'custom_fields' })]);
    });

    it('answers a PATCH of custom_fields to null with a 4xx or as an empty object, never a 5xx', async () => {
      const created = await createOk(alice, { custom_fields: { keep: true } });
      const response = await t.request('PATCH', `/api/contacts/${created.id}`, { token: alice.token, body: { custom_fields: null } });
      expect(response.status).toBeLessThan(500);
      if (response.status === 200) expect(response.body.custom_fields).toEqual({});
      else expect(response.body.details).toEqual([expect.objectContaining({ field: 'custom_fields' })]);
    });

    it.each([
      ['limit=0', { limit: 0 }, 'limit'],
      ['limit=201', { limit: 201 }, 'limit'],
      ['limit=abc', { limit: 'abc' }, 'limit'],
      ['limit=1.5', { limit: '1.5' }, 'limit'],
      ['an unknown query parameter', { sort: 'name' }, 'sort'],
    ])('rejects a list with %s with 400 whose details name the parameter', async (_label, query, field) => {
      const response = await t.request('GET', '/api/contacts', { token: alice.token, query });
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('accepts limit=1 and limit=200', async () => {
      const one = await t.request('GET', '/api/contacts', { token: alice.token, query: { limit: 1 } });
      const max = await t.request('GET', '/api/contacts', { token: alice.token, query: { limit: 200 } });
      expect([one.status, max.status]).toEqual([200, 200]);
      expect(one.body.data).toHaveLength(1);
    });

    it.each([
      ['garbage', 'not-a-cursor'],
      ['base64 of a non-array', Buffer.from('{"a":1}').toString('base64url')],
      ['an invalid date', forgeCursor('yesterday', randomUUID())],
    ])('rejects a cursor that is %s with 400 whose message names cursor', async (_label, cursor) => {
      const response = await t.request('GET', '/api/contacts', { token: alice.token, query: { cursor } });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(response.body.message).toMatch(/cursor/);
    });

    it('rejects a bad cursor with 400 whose details name cursor', async () => {
      const response = await t.request('GET', '/api/contacts', { token: alice.token, query: { cursor: 'not-a-cursor' } });
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([expect.objectContaining({ field: 'cursor' })]);
    });

    it.each([
      ['an id that is 36 dashes', forgeCursor('2026-01-01T00:00:00.000Z', '-'.repeat(36))],
      ['a date before 4713 BC', forgeCursor(new Date(-8.64e15).toISOString(), randomUUID())],
    ])('rejects a well-formed cursor holding %s with 400, not 500', async (_label, cursor) => {
      const response = await t.request('GET', '/api/contacts', { token: alice.token, query: { cursor } });
      expect(response.status).toBe(400);
    });

    it.each(['GET', 'PATCH', 'DELETE'])('answers %s on a malformed UUID with 400 naming id', async (method) => {
      const response = await t.request(method, '/api/contacts/not-a-uuid', {
        token: alice.token,
        body: method === 'PATCH' ? { first_name: 'X' } : undefined,
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(response.body.message).toMatch(/\bid\b/);
    });

    it('answers a well-formed but unknown id with 404', async () => {
      const response = await t.request('GET', `/api/contacts/${randomUUID()}`, { token: alice.token });
      expect(response.status).toBe(404);
    });
  });

  describe('tenant isolation', () => {
    let bobsContact: Record<string, any>;

    beforeAll(async () => {
      bobsContact = await createOk(bob, {
        first_name: 'Bobsecret',
        last_name: 'Hiddenlast',
        email: uniqueEmail('bobsecret'),
        company: 'Bobcorp Isolated',
      });
    });

    it('answers another tenant contact with 404 on get, exactly like a missing one', async () => {
      const other = await t.request('GET', `/api/contacts/${bobsContact.id}`, { token: alice.token });
      const missing = await t.request('GET', `/api/contacts/${randomUUID()}`, { token: alice.token });
      expect(other.status).toBe(404);
      expect(Object.keys(other.body).sort()).toEqual(Object.keys(missing.body).sort());
      expect(other.body.error).toBe(missing.body.error);
    });

    it('answers another tenant contact with 404 on patch and leaves it unchanged', async () => {
      const response = await t.request('PATCH', `/api/contacts/${bobsContact.id}`, { token: alice.token, body: { first_name: 'Hijacked' } });
      expect(response.status).toBe(404);
      const fetched = await t.request('GET', `/api/contacts/${bobsContact.id}`, { token: bob.token });
      expect(fetched.body).toEqual(bobsContact);
    });

    it('answers another tenant contact with 404 on delete and keeps it', async () => {
      const response = await t.request('DELETE', `/api/contacts/${bobsContact.id}`, { token: alice.token });
      expect(response.status).toBe(404);
      expect(await t.sql('SELECT id FROM contacts WHERE id = $1', [bobsContact.id])).toEqual([{ id: bobsContact.id }]);
    });

    it('leaves another tenant contact out of the list, ?q= and ?email=', async () => {
      let cursor: string | null = null;
      const allIds: string[] = [];
      do {
        const page: ApiResponse = await t.request('GET', '/api/contacts', { token: alice.token, query: { limit: 200, ...(cursor ? { cursor } : {}) } });
        expect(page.status).toBe(200);
        allIds.push(...(page.body.data as Array<{ id: string; tenant_id: string }>).map((contact) => contact.id));
        expect((page.body.data as Array<{ tenant_id: string }>).every((contact) => contact.tenant_id === alice.tenantId)).toBe(true);
        cursor = page.body.next_cursor as string | null;
      } while (cursor);
      expect(allIds).not.toContain(bobsContact.id);

      for (const q of ['Bobsecret', 'hiddenlast', 'bobcorp', bobsContact.email]) {
        expect(await listIds(alice, { q })).toEqual([]);
        expect(await listIds(bob, { q })).toEqual([bobsContact.id]);
      }
      expect(await listIds(alice, { email: bobsContact.email })).toEqual([]);
      expect(await listIds(bob, { email: bobsContact.email })).toEqual([bobsContact.id]);
    });
  });

  describe('search and filter', () => {
    let carol: RegisteredAccount;
    const contacts: Record<string, Record<string, any>> = {};

    beforeAll(async () => {
      carol = await registerAccount(t, 'carol-co');
      const specs: Record<string, Record<string, unknown>> = {
        byFirst: { first_name: 'Marigold', last_name: 'Smith', email: 'm.smith@example.com', company: 'Plain' },
        byLast: { first_name: 'Tom', last_name: 'Thistlewood', email: 't.t@example.com', company: 'Plain' },
        byEmail: { first_name: 'Ann', last_name: 'Lee', email: 'Kestrel.Watcher@Birds.example', company: 'Plain' },
        byCompany: { first_name: 'Bo', last_name: 'Yu', email: 'bo@example.com', company: 'Pinecone Labs' },
        percent: { first_name: 'Per', company: '100% Organic', email: 'percent@example.com' },
        noPercent: { first_name: 'Per', company: '1000 Organic', email: 'nopercent@example.com' },
        underscore: { first_name: 'Under', last_name: 'Snake_Case', email: 'under@example.com' },
        noUnderscore: { first_name: 'Under', last_name: 'SnakeXCase', email: 'nounder@example.com' },
        backslash: { first_name: 'Slash', company: 'Back\\Slash Inc', email: 'slash@example.com' },
        exact: { first_name: 'Exact', email: 'Exact.Match@Example.com' },
        longer: { first_name: 'Exact', email: 'exact.match@example.com.au' },
        prefixed: { first_name: 'Exact', email: 'inexact.match@example.com' },
      };
      for (const [key, body] of Object.entries(specs)) contacts[key] = await createOk(carol, body);
    });

    it.each([
      ['first name', 'mariGOLD', 'byFirst'],
      ['last name', 'THISTLE', 'byLast'],
      ['email', 'kestrel.watcher@birds', 'byEmail'],
      ['company', 'pinecone lab', 'byCompany'],
    ])('?q= finds a contact by its %s, whatever the case', async (_field, q, key) => {
      expect(await listIds(carol, { q })).toEqual([contacts[key].id]);
    });

    it('?q= treats % literally', async () => {
      expect(await listIds(carol, { q: '100%' })).toEqual([contacts.percent.id]);
      expect(await listIds(carol, { q: '%' })).toEqual([contacts.percent.id]);
    });

    it('?q= treats _ literally', async () => {
      expect(await listIds(carol, { q: 'snake_case' })).toEqual([contacts.underscore.id]);
      expect(await listIds(carol, { q: '_' })).toEqual([contacts.underscore.id]);
    });

    it('?q= treats a backslash literally', async () => {
      expect(await listIds(carol, { q: 'k\\s' })).toEqual([contacts.backslash.id]);
    });

    it('?q= with no match answers an empty page', async () => {
      const response = await t.request('GET', '/api/contacts', { token: carol.token, query: { q: 'zzz-nothing-like-this' } });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: [], next_cursor: null });
    });

    it('?email= matches the whole address exactly, whatever the case', async () => {
      expect(await listIds(carol, { email: 'EXACT.MATCH@example.COM' })).toEqual([contacts.exact.id]);
      expect(await listIds(carol, { email: 'exact.match@example.com' })).toEqual([contacts.exact.id]);
      expect(await listIds(carol, { email: 'exact.match@example' })).toEqual([]);
      expect(await listIds(carol, { email: 'xact.match@example.com' })).toEqual([]);
    });

    it('?email= and ?q= combine', async () => {
      expect(await listIds(carol, { email: 'exact.match@example.com', q: 'exact' })).toEqual([contacts.exact.id]);
      expect(await listIds(carol, { email: 'exact.match@example.com', q: 'marigold' })).toEqual([]);
    });

    it('?q= results paginate with the cursor', async () => {
      const first = await t.request('GET', '/api/contacts', { token: carol.token, query: { q: 'exact', limit: 2 } });
      expect(first.body.data).toHaveLength(2);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await t.request('GET', '/api/contacts', { token: carol.token, query: { q: 'exact', limit: 2, cursor: first.body.next_cursor } });
      expect(second.body.data).toHaveLength(1);
      expect(second.body.next_cursor).toBeNull();
      const ids = [...first.body.data, ...second.body.data].map((contact: { id: string }) => contact.id).sort();
      expect(ids).toEqual([contacts.exact.id, contacts.longer.id, contacts.prefixed.id].sort());
    });
  });

  describe('pagination', () => {
    it('a walk with limit=200 under concurrent inserts sees every earlier contact exactly once and ends with next_cursor null', async () => {
      const dave = await registerAccount(t, 'dave-co');

      // 400 rows straight into the table, in ties of ten on created_at so the id tie-break is exercised, then 50
      // through the API in parallel batches of 25.
      await t.sql(
        `INSERT INTO contacts (tenant_id, first_name, email, created_at)
         SELECT $1, 'Bulk ' || g, 'bulk-' || g || '@example.com', now() - interval '1 hour' + (g / 10) * interval '1 millisecond'
         FROM generate_series(1, 400) AS g`,
        [dave.tenantId],
      );
      for (let batch = 0; batch < 2; batch += 1) {
        await Promise.all(Array.from({ length: 25 }, (_, index) => createOk(dave, { first_name: `Api ${batch}-${index}` })));
      }
      const existing = (await t.sql<{ id: string }>('SELECT id FROM contacts WHERE tenant_id = $1', [dave.tenantId])).map((row) => row.id);
      expect(existing).toHaveLength(450);

      let created = 0;
      const createDuringWalk = async (count: number): Promise<void> => {
        await Promise.all(
          Array.from({ length: count }, async () => {
            await createOk(dave, { first_name: 'During walk' });
            created += 1;
          }),
        );
      };

      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: Record<string, string | number> = cursor ? { limit: 200, cursor } : { limit: 200 };
        const [page] = (await Promise.all([t.request('GET', '/api/contacts', { token: dave.token, query }), createDuringWalk(17)])) as [ApiResponse, void];
        expect(page.status, JSON.stringify(page.body)).toBe(200);
        const data = page.body.data as Array<{ id: string; tenant_id: string; created_at: string }>;
        expect(data.every((contact) => contact.tenant_id === dave.tenantId)).toBe(true);
        pageSizes.push(data.length);
        seen.push(...data.map((contact) => contact.id));
        cursor = page.body.next_cursor as string | null;
        pages += 1;
        expect(pages).toBeLessThan(10);
      } while (cursor);

      expect(created).toBeGreaterThanOrEqual(50);
      expect(new Set(seen).size).toBe(seen.length);
      const seenSet = new Set(seen);
      expect(existing.filter((id) => !seenSet.has(id))).toEqual([]);
      expect(pageSizes.every((size) => size <= 200)).toBe(true);
      expect(pageSizes[0]).toBe(200);
      expect(cursor).toBeNull();
      const [{ n }] = await t.sql('SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1', [dave.tenantId]);
      expect(n).toBe(450 + created);
    });

    it('returns 50 contacts per page when no limit is given', async () => {
      const erin = await registerAccount(t, 'erin-co');
      await t.sql(`INSERT INTO contacts (tenant_id, first_name) SELECT $1, 'Erin ' || g FROM generate_series(1, 60) AS g`, [erin.tenantId]);
      const response = await t.request('GET', '/api/contacts', { token: erin.token });
      expect(response.body.data).toHaveLength(50);
      expect(response.body.next_cursor).toEqual(expect.any(String));
    });

    it('orders a page newest first with ties broken by id', async () => {
      const frank = await registerAccount(t, 'frank-co');
      await t.sql(`INSERT INTO contacts (tenant_id, first_name) SELECT $1, 'Tie ' || g FROM generate_series(1, 30) AS g`, [frank.tenantId]);
      const first = await t.request('GET', '/api/contacts', { token: frank.token, query: { limit: 12 } });
      const rest = await t.request('GET', '/api/contacts', { token: frank.token, query: { limit: 200, cursor: first.body.next_cursor } });
      const ids = [...first.body.data, ...rest.body.data].map((contact: { id: string }) => contact.id);
      const expected = await t.sql<{ id: string }>('SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC', [frank.tenantId]);
      expect(ids).toEqual(expected.map((row) => row.id));
    });
  });
});
