import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODE_NAMES } from '../src/common/errors/error-codes.js';
import { registerAccount, startTestApp, type ApiResponse, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

/**
 * What a new user meets in the first hour: wrong input of every kind is a 4xx with a stable code and a message
 * that says what to do, never a 500; documented behaviour (OpenAPI) is what the server does.
 */
const NUL = 'a\u0000b';
const LONE = 'a\ud800b';
const UPPER_SNAKE = /^[A-Z][A-Z0-9_]+$/;

function expectError(response: ApiResponse, status: number, code: string, field?: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.code).toBe(code);
  expect(typeof response.body.message).toBe('string');
  if (field) expect(response.body.details?.map((detail: { field: string }) => detail.field)).toContain(field);
}

describe('input contract', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let acme: RegisteredAccount;
  let globex: RegisteredAccount;
  let apiKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    receiver = await new WebhookReceiver().start();
    acme = await registerAccount(t, 'acme');
    globex = await registerAccount(t, 'globex');
    const key = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: acme.token });
    apiKey = key.body.api_key;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  const inbound = (eventName: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> =>
    t.request('POST', `/api/webhooks/${eventName}`, { headers: { 'x-tenant-id': acme.tenantId, 'x-api-key': apiKey, ...headers }, body });
  const hookUrl = (): string => receiver.url(`/hook-${randomBytes(4).toString('hex')}`);

  describe('strings PostgreSQL cannot store', () => {
    const cases: Array<[string, string, (text: string) => Record<string, unknown>, string]> = [
      ['POST', '/api/contacts', (text) => ({ first_name: text }), 'first_name'],
      ['POST', '/api/contacts', (text) => ({ first_name: 'Ada', custom_fields: { note: text } }), 'custom_fields.note'],
      ['POST', '/api/contacts', (text) => ({ first_name: 'Ada', custom_fields: { deep: [{ x: text }] } }), 'custom_fields.deep.0.x'],
      ['POST', '/api/deals', (text) => ({ title: text }), 'title'],
      ['POST', '/api/users', (text) => ({ email: `u-${randomBytes(3).toString('hex')}@example.com`, password: 'long enough password', name: text }), 'name'],
      ['POST', '/api/auth/tokens', (text) => ({ name: text }), 'name'],
      ['POST', '/api/webhooks/subscriptions', (text) => ({ event_name: 'contact.created', target_url: 'http://127.0.0.1:9/x', description: text }), 'description'],
      ['POST', '/api/webhooks/subscriptions', (text) => ({ event_name: 'contact.created', target_url: 'http://127.0.0.1:9/y', headers: { 'X-Auth': text } }), 'headers.X-Auth'],
    ];
    for (const [label, text] of [['a NUL character', NUL], ['a lone surrogate', LONE]] as const) {
      for (const [method, url, body, field] of cases) {
        it(`${method} ${url} with ${label} in ${field} is a 400 naming the field`, async () => {
          const response = await t.request(method, url, { token: acme.token, body: body(text) });
          expectError(response, 400, 'VALIDATION_FAILED', field);
          expect(response.body.message).toContain(`${field}:`);
        });
      }

      it(`register with ${label} in name is a 400`, async () => {
        const response = await t.request('POST', '/api/auth/register', {
          body: { email: `r-${randomBytes(3).toString('hex')}@example.com`, password: 'long enough password', name: text, tenant_name: 'T' },
        });
        expectError(response, 400, 'VALIDATION_FAILED', 'name');
      });

      it(`PATCH /api/contacts/:id with ${label} is a 400 and changes nothing`, async () => {
        const created = await t.request('POST', '/api/contacts', { token: acme.token, body: { first_name: 'Patchy' } });
        const response = await t.request('PATCH', `/api/contacts/${created.body.id}`, { token: acme.token, body: { last_name: text } });
        expectError(response, 400, 'VALIDATION_FAILED', 'last_name');
        const after = await t.request('GET', `/api/contacts/${created.body.id}`, { token: acme.token });
        expect(after.body.last_name).toBeNull();
      });

      it(`an inbound payload with ${label} at any depth is a 400 and stores nothing`, async () => {
        const before = await t.sql('SELECT count(*)::int AS n FROM integration_events');
        const response = await inbound('lead.captured', { email: 'nul@example.com', metadata: { form: { comment: text } } });
        expectError(response, 400, 'VALIDATION_FAILED', 'metadata.form.comment');
        const unknown = await inbound('form.submitted', { [`key${text}`]: 1 });
        expectError(unknown, 400, 'VALIDATION_FAILED');
        const after = await t.sql('SELECT count(*)::int AS n FROM integration_events');
        expect(after[0].n).toBe(before[0].n);
      });
    }

    it('query strings with a NUL are a 400 naming the parameter', async () => {
      for (const [url, field] of [
        ['/api/contacts?q=a%00b', 'q'],
        ['/api/contacts?email=a%00b%40example.com', 'email'],
        ['/api/webhooks/events?event_name=a%00b', 'event_name'],
      ]) {
        const response = await t.request('GET', url, { token: acme.token });
        expectError(response, 400, 'VALIDATION_FAILED', field);
      }
    });

    it('a lone surrogate is never stored as U+FFFD', async () => {
      const response = await t.request('POST', '/api/contacts', { token: acme.token, body: { company: `Acme ${LONE}` } });
      expect(response.status).toBe(400);
      const rows = await t.sql(`SELECT count(*)::int AS n FROM contacts WHERE company LIKE '%' || chr(65533) || '%'`);
      expect(rows[0].n).toBe(0);
    });

    it('JSON nested deeper than 64 levels is a 400, not a stack overflow', async () => {
      let deep: unknown = 'x';
      for (let level = 0; level < 200; level += 1) deep = { d: deep };
      const response = await t.request('POST', '/api/contacts', { token: acme.token, body: { first_name: 'Deep', custom_fields: deep } });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.message).toContain('nested deeper than 64 levels');
    });
  });

  describe('missing and wrong fields', () => {
    it('a missing required field says "X is required", first', async () => {
      const register = await t.request('POST', '/api/auth/register', { body: {} });
      expectError(register, 400, 'VALIDATION_FAILED');
      const messages = register.body.details.map((detail: { message: string }) => detail.message);
      expect(messages).toEqual(expect.arrayContaining(['email is required', 'password is required', 'name is required', 'tenant_name is required']));
      expect(register.body.message).not.toContain('shorter than');

      for (const [url, field] of [
        ['/api/deals', 'title'],
        ['/api/invoices', 'number'],
        ['/api/webhooks/subscriptions', 'target_url'],
      ]) {
        const response = await t.request('POST', url, { token: acme.token, body: {} });
        expectError(response, 400, 'VALIDATION_FAILED', field);
        expect(response.body.details.find((detail: { field: string }) => detail.field === field).message).toBe(`${field} is required`);
      }
    });

    it('a value of the wrong type gets the type message, not a length rule', async () => {
      const response = await t.request('POST', '/api/deals', { token: acme.token, body: { title: 42 } });
      expectError(response, 400, 'VALIDATION_FAILED', 'title');
      expect(response.body.details).toHaveLength(1);
      expect(response.body.details[0].message).toBe('title must be a string');
    });

    it('an empty contact is refused; one with only a company is fine', async () => {
      const empty = await t.request('POST', '/api/contacts', { token: acme.token, body: {} });
      expectError(empty, 400, 'VALIDATION_FAILED', 'email');
      expect(empty.body.message).toContain('needs an email or at least one of first_name, last_name, company');
      const company = await t.request('POST', '/api/contacts', { token: acme.token, body: { company: 'Solo Ltd' } });
      expect(company.status).toBe(201);
      const emptied = await t.request('PATCH', `/api/contacts/${company.body.id}`, { token: acme.token, body: { company: null } });
      expectError(emptied, 400, 'VALIDATION_FAILED');
    });

    it('an unknown field names itself', async () => {
      const response = await t.request('POST', '/api/contacts', { token: acme.token, body: { first_name: 'Ada', favourite_colour: 'green' } });
      expectError(response, 400, 'VALIDATION_FAILED', 'favourite_colour');
    });
  });

  describe('stable error codes', () => {
    it('each kind of error carries its own code', async () => {
      expectError(await t.request('GET', '/api/contacts'), 401, 'AUTHENTICATION_REQUIRED');
      expectError(await t.request('GET', '/api/contacts', { token: 'jcs_nope' }), 401, 'INVALID_TOKEN');
      expectError(await t.request('GET', `/api/contacts/${randomUUID()}`, { token: acme.token }), 404, 'CONTACT_NOT_FOUND');
      expectError(await t.request('GET', '/api/contacts/not-a-uuid', { token: acme.token }), 400, 'INVALID_PATH_PARAMETER', 'id');
      expectError(await t.request('GET', `/api/webhooks/subscriptions/${randomUUID()}`, { token: acme.token }), 404, 'SUBSCRIPTION_NOT_FOUND');
      expectError(await t.request('GET', `/api/deals/${randomUUID()}`, { token: acme.token }), 404, 'DEAL_NOT_FOUND');
      expectError(await t.request('GET', `/api/webhooks/deliveries/${randomUUID()}`, { token: acme.token }), 404, 'DELIVERY_NOT_FOUND');
      expectError(await t.request('GET', `/api/webhooks/events/${randomUUID()}`, { token: acme.token }), 404, 'INBOUND_EVENT_NOT_FOUND');
      expectError(await t.request('GET', '/api/nowhere', { token: acme.token }), 404, 'ROUTE_NOT_FOUND');
      expectError(await t.request('GET', '/api/contacts', { token: acme.token, query: { cursor: 'garbage' } }), 400, 'INVALID_CURSOR', 'cursor');
      expectError(await t.request('POST', '/api/auth/login', { body: { email: acme.email, password: 'wrong password' } }), 401, 'INVALID_CREDENTIALS');
      expectError(await t.request('POST', '/api/contacts', { token: acme.token, body: '{"first_name": ', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON');
      expectError(await t.request('POST', '/api/contacts', { token: acme.token, body: 'first_name=Ada', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectError(await inbound('lead.captured', { email: 'x@example.com' }, { 'x-api-key': 'wrong' }), 401, 'INBOUND_UNAUTHORIZED');
    });

    it('another tenant\'s record is the same 404 as a missing one', async () => {
      const contact = await t.request('POST', '/api/contacts', { token: acme.token, body: { first_name: 'Mine' } });
      const foreign = await t.request('GET', `/api/contacts/${contact.body.id}`, { token: globex.token });
      expectError(foreign, 404, 'CONTACT_NOT_FOUND');
      const patch = await t.request('PATCH', `/api/contacts/${contact.body.id}`, { token: globex.token, body: { first_name: 'Theirs' } });
      expectError(patch, 404, 'CONTACT_NOT_FOUND');
    });

    it('every unique collision is a 409 with existing_id, users included', async () => {
      const email = `dup-${randomBytes(3).toString('hex')}@example.com`;
      const first = await t.request('POST', '/api/contacts', { token: acme.token, body: { email } });
      const second = await t.request('POST', '/api/contacts', { token: acme.token, body: { email: email.toUpperCase() } });
      expectError(second, 409, 'CONTACT_EMAIL_TAKEN', 'email');
      expect(second.body.existing_id).toBe(first.body.id);

      const userEmail = `member-${randomBytes(3).toString('hex')}@example.com`;
      const user = await t.request('POST', '/api/users', { token: acme.token, body: { email: userEmail, password: 'long enough password', name: 'Member' } });
      const twin = await t.request('POST', '/api/users', { token: acme.token, body: { email: userEmail, password: 'long enough password', name: 'Twin' } });
      expectError(twin, 409, 'USER_EMAIL_TAKEN', 'email');
      expect(twin.body.existing_id).toBe(user.body.id);
      // Another tenant learns that the email is taken, never the id of the user who has it.
      const elsewhere = await t.request('POST', '/api/users', { token: globex.token, body: { email: userEmail, password: 'long enough password', name: 'Other' } });
      expectError(elsewhere, 409, 'USER_EMAIL_TAKEN');
      expect(elsewhere.body.existing_id).toBeUndefined();

      const number = `INV-${randomBytes(3).toString('hex')}`;
      const invoice = await t.request('POST', '/api/invoices', { token: acme.token, body: { number, amount: 10 } });
      const again = await t.request('POST', '/api/invoices', { token: acme.token, body: { number, amount: 10 } });
      expectError(again, 409, 'INVOICE_NUMBER_TAKEN', 'number');
      expect(again.body.existing_id).toBe(invoice.body.id);

      const a = await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: 'deal.created', target_url: hookUrl() } });
      const b = await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: 'deal.updated', target_url: a.body.target_url } });
      const clash = await t.request('PATCH', `/api/webhooks/subscriptions/${b.body.id}`, { token: acme.token, body: { event_name: 'deal.created' } });
      expectError(clash, 409, 'SUBSCRIPTION_TARGET_TAKEN');
      expect(clash.body.existing_id).toBe(a.body.id);
    });

    it('a rate-limited inbound sender gets INBOUND_RATE_LIMITED with Retry-After', async () => {
      const limited = await startTestApp({ INBOUND_RATE_LIMIT: '1', INBOUND_RATE_BURST: '1' });
      try {
        const account = await registerAccount(limited, 'limited');
        const key = (await limited.request('POST', '/api/tenants/current/webhook-api-key', { token: account.token })).body.api_key;
        const send = (): Promise<ApiResponse> =>
          limited.request('POST', '/api/webhooks/test.event', { headers: { 'x-tenant-id': account.tenantId, 'x-api-key': key }, body: {} });
        expect((await send()).status).toBe(202);
        const second = await send();
        expectError(second, 429, 'INBOUND_RATE_LIMITED');
        expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
      } finally {
        await limited.close();
      }
    });

    it('a 413 names the limit and the variable that sets it', async () => {
      const response = await inbound('lead.captured', { email: 'big@example.com', blob: 'x'.repeat(300_000) });
      expectError(response, 413, 'PAYLOAD_TOO_LARGE');
      expect(response.body.message).toContain('262144');
      expect(response.body.message).toContain('INBOUND_MAX_BYTES');
    });
  });

  describe('re-registration applies what the request states', () => {
    it('updates description and headers, re-enables, returns 200 with the secret, and makes no twin', async () => {
      const url = hookUrl();
      const first = await t.request('POST', '/api/webhooks/subscriptions', {
        token: acme.token,
        body: { event_name: 'contact.created', target_url: url, description: 'v1', headers: { 'X-N8N-Auth': 'old' } },
      });
      expect(first.status).toBe(201);
      await t.request('PATCH', `/api/webhooks/subscriptions/${first.body.id}`, { token: acme.token, body: { enabled: false } });

      const again = await t.request('POST', '/api/webhooks/subscriptions', {
        token: acme.token,
        body: { event_name: 'contact.created', target_url: url, description: 'v2', headers: { 'X-N8N-Auth': 'new' } },
      });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id: first.body.id, description: 'v2', enabled: true, secret: first.body.secret });

      await t.request('POST', '/api/contacts', { token: acme.token, body: { first_name: 'Header', last_name: 'Check' } });
      const [delivery] = await receiver.waitFor((received) => received.some((hook) => url.endsWith(hook.path)));
      const sent = receiver.on(new URL(url).pathname);
      expect((sent[0] ?? delivery).headers['x-n8n-auth']).toBe('new');

      const omitted = await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: 'contact.created', target_url: url } });
      expect(omitted.body.description).toBe('v2');
      const disabled = await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: 'contact.created', target_url: url, enabled: false } });
      expect(disabled.body.enabled).toBe(false);
      const rows = await t.sql('SELECT count(*)::int AS n FROM webhook_subscriptions WHERE target_url = $1', [url]);
      expect(rows[0].n).toBe(1);
    });
  });

  describe('inbound feedback at send time', () => {
    it('a lead without a valid email is a 400 with details, nothing stored', async () => {
      const before = await t.sql('SELECT count(*)::int AS n FROM integration_events');
      const missing = await inbound('lead.captured', { name: 'No Email' });
      expectError(missing, 400, 'VALIDATION_FAILED', 'email');
      const bad = await inbound('lead.captured', { email: 'not-an-email' });
      expectError(bad, 400, 'VALIDATION_FAILED', 'email');
      const amount = await inbound('payment.received', { amount: 'abc', currency: 'USD', customer_email: 'pay@example.com', invoice_id: 'in_1' });
      expectError(amount, 400, 'VALIDATION_FAILED', 'amount');
      const after = await t.sql('SELECT count(*)::int AS n FROM integration_events');
      expect(after[0].n).toBe(before[0].n);
    });

    it('a name with no handler is stored (202) with a warning naming the nearest known name', async () => {
      const typo = await inbound('lead.capture', { email: 'typo@example.com' });
      expect(typo.status).toBe(202);
      expect(typo.body.warning).toBe('no handler for "lead.capture"; did you mean "lead.captured"? It is stored and will be ignored');
      const other = await inbound('order.shipped', { order: 1 });
      expect(other.status).toBe(202);
      expect(other.body.warning).toContain('no handler for "order.shipped"');
      const good = await inbound('lead.captured', { email: `ok-${randomBytes(3).toString('hex')}@example.com` });
      expect(good.status).toBe(202);
      expect(good.body.warning).toBeUndefined();
    });
  });

  describe('test sends', () => {
    it('sends the named event\'s catalog example, marked as a test, signed, to that subscription only', async () => {
      const url = hookUrl();
      const other = hookUrl();
      const subscription = await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: 'deal.*', target_url: url } });
      await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: 'deal.stage_changed', target_url: other } });
      const result = await t.request('POST', `/api/webhooks/subscriptions/${subscription.body.id}/test`, {
        token: acme.token,
        body: { event_name: 'deal.stage_changed' },
      });
      expect(result.status, JSON.stringify(result.body)).toBe(200);
      expect(result.body.succeeded).toBe(true);
      const [hook] = receiver.on(new URL(url).pathname);
      expect(hook.body).toMatchObject({ event_name: 'deal.stage_changed', test: true, stage: 'won', tenant_id: acme.tenantId });
      expect(hook.headers['x-webhook-event']).toBe('deal.stage_changed');
      expect(hook.headers['webhook-signature']).toMatch(/^v1,/);
      expect(receiver.on(new URL(other).pathname)).toHaveLength(0);

      const plain = await t.request('POST', `/api/webhooks/subscriptions/${subscription.body.id}/test`, { token: acme.token });
      expect(plain.status).toBe(200);
      const wrong = await t.request('POST', `/api/webhooks/subscriptions/${subscription.body.id}/test`, { token: acme.token, body: { event_name: 'deal.won' } });
      expectError(wrong, 400, 'VALIDATION_FAILED', 'event_name');
    });
  });

  describe('what clients really send', () => {
    it('accepts an empty body with Content-Type: application/json on DELETE and body-less actions', async () => {
      const json = { 'content-type': 'application/json' };
      const subscription = await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: 'contact.deleted', target_url: hookUrl() } });
      const rotate = await t.request('POST', `/api/webhooks/subscriptions/${subscription.body.id}/rotate-secret`, { token: acme.token, headers: json, body: '' });
      expect(rotate.status, JSON.stringify(rotate.body)).toBe(200);
      const test = await t.request('POST', `/api/webhooks/subscriptions/${subscription.body.id}/test`, { token: acme.token, headers: json, body: '' });
      expect(test.status).toBe(200);
      const contact = await t.request('POST', '/api/contacts', { token: acme.token, body: { first_name: 'Gone' } });
      const removed = await t.request('DELETE', `/api/contacts/${contact.body.id}`, { token: acme.token, headers: json, body: '' });
      expect(removed.status).toBe(204);
      const removedSubscription = await t.request('DELETE', `/api/webhooks/subscriptions/${subscription.body.id}`, { token: acme.token, headers: json, body: '' });
      expect(removedSubscription.status).toBe(204);
    });

    it('a PATCH or redeliver racing a DELETE answers 404, never 500', async () => {
      const statuses: number[] = [];
      for (let round = 0; round < 25; round += 1) {
        const subscription = await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: 'user.created', target_url: hookUrl() } });
        const id = subscription.body.id as string;
        const sent = await t.request('POST', `/api/webhooks/subscriptions/${id}/test`, { token: acme.token });
        const [patched, rotated, redelivered, deleted] = await Promise.all([
          t.request('PATCH', `/api/webhooks/subscriptions/${id}`, { token: acme.token, body: { description: `round ${round}` } }),
          t.request('POST', `/api/webhooks/subscriptions/${id}/rotate-secret`, { token: acme.token }),
          t.request('POST', `/api/webhooks/deliveries/${sent.body.delivery_id}/redeliver`, { token: acme.token }),
          t.request('DELETE', `/api/webhooks/subscriptions/${id}`, { token: acme.token }),
        ]);
        statuses.push(patched.status, rotated.status, redelivered.status, deleted.status);
      }
      expect(statuses.filter((status) => status >= 500)).toEqual([]);
      expect(new Set(statuses)).toEqual(new Set([...statuses].filter((status) => [200, 204, 404].includes(status))));
    });

    it('lists answer {data, next_cursor}, API tokens included', async () => {
      await t.request('POST', '/api/auth/tokens', { token: acme.token, body: { name: 'n8n' } });
      await t.request('POST', '/api/auth/tokens', { token: acme.token, body: { name: 'activepieces' } });
      const page = await t.request('GET', '/api/auth/tokens', { token: acme.token, query: { limit: 1 } });
      expect(page.status).toBe(200);
      expect(page.body.data).toHaveLength(1);
      expect(typeof page.body.next_cursor).toBe('string');
      const next = await t.request('GET', '/api/auth/tokens', { token: acme.token, query: { limit: 1, cursor: page.body.next_cursor } });
      expect(next.body.data[0].id).not.toBe(page.body.data[0].id);
    });
  });

  describe('OpenAPI says what the server does', () => {
    let document: any;
    beforeAll(async () => {
      document = (await t.request('GET', '/api/docs-json')).body;
    });

    it('inbound needs both headers in one security requirement; bearer tokens are opaque', () => {
      expect(document.paths['/api/webhooks/{event_name}'].post.security).toEqual([{ 'tenant-id': [], 'api-key': [] }]);
      expect(document.components.securitySchemes.bearer.bearerFormat).not.toBe('JWT');
    });

    it('error responses have examples of their own status and a code from the one enum', () => {
      const enumValues = document.components.schemas.ErrorResponseDto.properties.code.enum ?? document.components.schemas.ErrorCode?.enum;
      expect(enumValues).toEqual(ERROR_CODE_NAMES);
      for (const name of ERROR_CODE_NAMES) expect(name).toMatch(UPPER_SNAKE);
      let checked = 0;
      for (const [path, item] of Object.entries<any>(document.paths)) {
        for (const [method, operation] of Object.entries<any>(item)) {
          for (const [status, response] of Object.entries<any>(operation.responses ?? {})) {
            if (Number(status) < 400) continue;
            const examples = response.content?.['application/json']?.examples;
            expect(examples, `${method} ${path} ${status}`).toBeDefined();
            for (const example of Object.values<any>(examples)) {
              expect(example.value.statusCode, `${method} ${path} ${status}`).toBe(Number(status));
              expect(ERROR_CODE_NAMES).toContain(example.value.code);
              checked += 1;
            }
          }
        }
      }
      expect(checked).toBeGreaterThan(50);
    });

    it('event_name of subscriptions is an enum of the catalog and the patterns; tags are ordered and described', () => {
      const eventName = document.components.schemas.CreateSubscriptionDto.properties.event_name;
      expect(eventName.enum).toEqual(expect.arrayContaining(['contact.created', 'deal.stage_changed', 'contact.*', '*']));
      expect(document.tags.map((tag: { name: string }) => tag.name).slice(0, 11)).toEqual([
        'auth', 'users', 'tenants', 'contacts', 'deals', 'invoices', 'subscriptions', 'deliveries', 'inbound', 'event types', 'health',
      ]);
      for (const tag of document.tags) expect(tag.description).toBeTruthy();
      expect(document.paths['/api/metrics'].get.responses['200'].content).toHaveProperty(['text/plain; version=0.0.4']);
    });

    it('Swagger UI keeps its authorization across reloads', async () => {
      const init = await t.request('GET', '/api/docs/swagger-ui-init.js');
      expect(init.body).toContain('"persistAuthorization": true');
    });

    it('real 4xx bodies have exactly the documented fields', async () => {
      const documented = new Set(Object.keys(document.components.schemas.ErrorResponseDto.properties));
      const required = document.components.schemas.ErrorResponseDto.required as string[];
      const bodies = [
        await t.request('POST', '/api/contacts', { token: acme.token, body: {} }),
        await t.request('GET', `/api/contacts/${randomUUID()}`, { token: acme.token }),
        await t.request('GET', '/api/contacts'),
        await t.request('POST', '/api/contacts', { token: acme.token, body: { email: 'x' } }),
        await inbound('lead.captured', {}),
        await t.request('GET', '/api/nowhere'),
        await t.request('POST', '/api/users', { token: acme.token, body: { email: acme.email, password: 'long enough password', name: 'Me again' } }),
      ];
      for (const { body } of bodies) {
        for (const key of Object.keys(body)) expect(documented, `${key} in ${JSON.stringify(body)}`).toContain(key);
        for (const key of required) expect(body).toHaveProperty(key);
        expect(ERROR_CODE_NAMES).toContain(body.code);
      }
    });
  });
});
