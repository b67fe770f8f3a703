import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, startTestApp, type ApiResponse, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';
import { ISO_UTC, sleep, uniqueEmail, UUID } from './support/helpers.js';

/**
 * Inbound webhooks (SPEC.md "Inbound webhooks", issue 5) end to end on real PostgreSQL: the seed guide's
 * inbound curl calls as written (with real ids and keys), every bad input and what it stores (nothing),
 * rate limit, Idempotency-Key, key rotation with grace, processing by the handlers (contacts, invoices and
 * the outbound webhooks they cause, through a real HTTP receiver), the events API, retry and metrics.
 */

const SEED_RESPONSE_KEYS = ['event_name', 'id', 'payload', 'received_at', 'status', 'tenant_id'];
const FINAL = ['processed', 'failed', 'ignored'];
const PASSWORD = 'correct horse battery staple';


/** The seed guide's lead.captured body (n8n's HTTP Request node), with its template expressions filled in. */
function seedLead(email: string): Record<string, unknown> {
  return {
    email,
    source: 'website_form',
    utm_campaign: 'summer2025',
    metadata: { page_url: 'https://example.com/pricing', timestamp: '2025-01-15T10:35:00.000Z' },
  };
}

interface Credentials {
  tenantId: string;
  apiKey: string;
}

interface Tenant extends RegisteredAccount, Credentials {}

/** Registers a tenant and generates its inbound key through the API (the seed's manual SQL, replaced). */
async function tenantWithKey(t: TestApp, name: string): Promise<Tenant> {
  const account = await registerAccount(t, name);
  const key = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: account.token });
  expect(key.status, JSON.stringify(key.body)).toBe(200);
  return { ...account, apiKey: key.body.api_key as string };
}

/** POST /api/webhooks/{name} with the seed's three headers (and any extra). */
function send(t: TestApp, name: string, credentials: Credentials, body: unknown, extra: Record<string, string> = {}): Promise<ApiResponse> {
  return t.request('POST', `/api/webhooks/${name}`, {
    headers: { 'X-Tenant-ID': credentials.tenantId, 'X-API-Key': credentials.apiKey, 'Content-Type': 'application/json', ...extra },
    body,
  });
}

async function countEvents(t: TestApp, tenantId?: string): Promise<number> {
  const [row] = tenantId
    ? await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM integration_events WHERE tenant_id = $1', [tenantId])
    : await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM integration_events');
  return row.n;
}

/** Polls GET /api/webhooks/events/:id until the event is processed, failed or ignored. */
async function settled(t: TestApp, token: string, id: string, timeoutMs = 5_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await t.request('GET', `/api/webhooks/events/${id}`, { token });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    if (FINAL.includes(response.body.status)) return response.body;
    if (Date.now() > deadline) throw new Error(`event ${id} still ${response.body.status} after ${timeoutMs} ms`);
    await sleep(15);
  }
}

/** Sends an event, expects 202, and waits for its outcome. */
async function sendAndSettle(t: TestApp, tenant: Tenant, name: string, body: unknown, timeoutMs?: number): Promise<Record<string, any>> {
  const response = await send(t, name, tenant, body);
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return settled(t, tenant.token, response.body.id, timeoutMs);
}

async function contactsWithEmail(t: TestApp, tenantId: string, email: string): Promise<Array<Record<string, any>>> {
  return t.sql('SELECT * FROM contacts WHERE tenant_id = $1 AND lower(email) = lower($2)', [tenantId, email]);
}

/** A JSON object body of exactly `bytes` bytes. */
function bodyOfSize(bytes: number): string {
  const overhead = JSON.stringify({ pad: '' }).length;
  const body = JSON.stringify({ pad: 'x'.repeat(bytes - overhead) });
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

describe('inbound webhooks', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let acme: Tenant;
  let globex: Tenant;

  beforeAll(async () => {
    [t, receiver] = await Promise.all([startTestApp(), new WebhookReceiver().start()]);
    [acme, globex] = await Promise.all([tenantWithKey(t, 'acme'), tenantWithKey(t, 'globex')]);
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  describe('the seed guide, as written', () => {
    it('step 1: GET /api/auth/me gives tenant_id; the API key comes from POST /api/tenants/current/webhook-api-key', async () => {
      const account = await registerAccount(t, 'seed');
      const me = await t.request('GET', '/api/auth/me', { token: account.token });
      expect(me.status).toBe(200);
      expect(me.body.tenant_id).toBe(account.tenantId);

      const key = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: account.token });
      expect(key.status).toBe(200);
      expect(key.body).toMatchObject({ tenant_id: me.body.tenant_id, previous_key_expires_at: null });
      expect(key.body.api_key).toEqual(expect.any(String));
      expect(key.body.api_key.length).toBeGreaterThanOrEqual(32);
      expect(key.body.api_key.startsWith(key.body.prefix)).toBe(true);
      // Only a hash is stored.
      const [row] = await t.sql('SELECT * FROM tenants WHERE id = $1', [account.tenantId]);
      expect(JSON.stringify(row)).not.toContain(key.body.api_key);

      // Step 2 with these credentials works at once.
      const response = await send(t, 'lead.captured', { tenantId: me.body.tenant_id, apiKey: key.body.api_key }, seedLead(uniqueEmail('step1')));
      expect(response.status).toBe(202);
    });

    it('step 2: POST /api/webhooks/lead.captured with X-Tenant-ID, X-API-Key and Content-Type → 202 with the seed\'s response shape', async () => {
      const before = await countEvents(t, acme.tenantId);
      const body = seedLead(uniqueEmail('lead'));
      const response = await send(t, 'lead.captured', acme, body);

      expect(response.status).toBe(202);
      expect(Object.keys(response.body).sort()).toEqual(SEED_RESPONSE_KEYS);
      expect(response.body).toEqual({
        id: expect.stringMatching(UUID),
        tenant_id: acme.tenantId,
        event_name: 'lead.captured',
        payload: body,
        status: 'received',
        received_at: expect.stringMatching(ISO_UTC),
      });
      expect(Math.abs(Date.parse(response.body.received_at) - Date.now())).toBeLessThan(10_000);

      // Stored in integration_events, as the seed's monitoring query shows.
      expect(await countEvents(t, acme.tenantId)).toBe(before + 1);
      const latest = await t.sql('SELECT * FROM integration_events ORDER BY received_at DESC LIMIT 10');
      const row = latest.find((candidate) => candidate.id === response.body.id);
      expect(row).toMatchObject({ tenant_id: acme.tenantId, event_name: 'lead.captured', payload: body });
    });

    it('"Test Inbound Webhook": POST /api/webhooks/test.event {"test": "data"} → 202, then ignored', async () => {
      const response = await send(t, 'test.event', acme, '{"test": "data"}');
      expect(response.status).toBe(202);
      expect(response.body).toMatchObject({ tenant_id: acme.tenantId, event_name: 'test.event', payload: { test: 'data' }, status: 'received' });
      const event = await settled(t, acme.token, response.body.id);
      expect(event).toMatchObject({ status: 'ignored', attempts: 1, error_message: null, result: null });
    });

    it('accepts application/json with a charset (what n8n and Activepieces send)', async () => {
      const response = await send(t, 'test.event', acme, { test: 'charset' }, { 'Content-Type': 'application/json; charset=utf-8' });
      expect(response.status).toBe(202);
    });
  });

  describe('bad input: its 4xx, and nothing stored', () => {
    it('any credential problem → 401 with the identical body', async () => {
      const noKeyYet = await registerAccount(t, 'nokey');
      const before = await countEvents(t);
      const body = seedLead('nobody@example.com');
      const cases: Array<[string, Record<string, string>]> = [
        ['missing X-API-Key', { 'X-Tenant-ID': acme.tenantId }],
        ['missing X-Tenant-ID', { 'X-API-Key': acme.apiKey }],
        ['no credentials', {}],
        ['wrong key', { 'X-Tenant-ID': acme.tenantId, 'X-API-Key': `${acme.apiKey.slice(0, -1)}x` }],
        ['empty key', { 'X-Tenant-ID': acme.tenantId, 'X-API-Key': '' }],
        ['another tenant\'s key', { 'X-Tenant-ID': acme.tenantId, 'X-API-Key': globex.apiKey }],
        ['unknown tenant (random UUID)', { 'X-Tenant-ID': randomUUID(), 'X-API-Key': acme.apiKey }],
        ['malformed X-Tenant-ID', { 'X-Tenant-ID': 'not-a-uuid', 'X-API-Key': acme.apiKey }],
        ['tenant with no key generated yet', { 'X-Tenant-ID': noKeyYet.tenantId, 'X-API-Key': acme.apiKey }],
        ['tenant with no key generated yet, empty key', { 'X-Tenant-ID': noKeyYet.tenantId, 'X-API-Key': '' }],
      ];
      const responses = [];
      for (const [label, headers] of cases) {
        const response = await t.request('POST', '/api/webhooks/lead.captured', { headers: { ...headers, 'Content-Type': 'application/json' }, body });
        expect(response.status, label).toBe(401);
        responses.push({ label, body: response.body, contentType: response.headers['content-type'] });
      }
      expect(responses[0].body).toEqual({ statusCode: 401, code: 'INBOUND_UNAUTHORIZED', error: 'Unauthorized', message: expect.any(String) });
      for (const response of responses) {
        expect(response.body, response.label).toEqual(responses[0].body);
        expect(response.contentType, response.label).toEqual(responses[0].contentType);
      }
      expect(await countEvents(t)).toBe(before);

      // The tenant that had no key gets one, and it works at once (the cached "no key" is dropped).
      const key = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: noKeyYet.token });
      expect((await send(t, 'test.event', { tenantId: noKeyYet.tenantId, apiKey: key.body.api_key }, { ok: true })).status).toBe(202);
    });

    it('a body that is not a JSON object (array, string, number, null, true, empty) → 400', async () => {
      const before = await countEvents(t);
      for (const raw of ['[1, 2]', '[{"email": "a@example.com"}]', '"hello"', '42', 'null', 'true', '']) {
        const response = await send(t, 'lead.captured', acme, raw);
        expect(response.status, raw).toBe(400);
        expect(response.body, raw).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
      }
      const array = await send(t, 'lead.captured', acme, '[1, 2]');
      expect(array.body.message).toMatch(/JSON object/);
      expect(await countEvents(t)).toBe(before);
    });

    it('malformed JSON → 400', async () => {
      const before = await countEvents(t);
      for (const raw of ['{"email": ', '{email: "a@example.com"}', "{'a': 1}", '{"a": 1,}']) {
        const response = await send(t, 'lead.captured', acme, raw);
        expect(response.status, raw).toBe(400);
        expect(response.body, raw).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
      }
      expect(await countEvents(t)).toBe(before);
    });

    it('a body that is not JSON (text/plain, form, multipart, xml) → 415', async () => {
      const before = await countEvents(t);
      const cases: Array<[string, string]> = [
        ['text/plain', '{"email": "a@example.com"}'],
        ['application/x-www-form-urlencoded', 'email=a%40example.com&source=website_form'],
        ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--xyz--\r\n'],
        ['application/xml', '<lead><email>a@example.com</email></lead>'],
      ];
      for (const [contentType, raw] of cases) {
        const response = await send(t, 'lead.captured', acme, raw, { 'Content-Type': contentType });
        expect(response.status, contentType).toBe(415);
        expect(response.body, contentType).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type', message: expect.stringContaining('application/json') });
      }
      expect(await countEvents(t)).toBe(before);
    });

    it('a bad event name → 400 naming it', async () => {
      const before = await countEvents(t);
      for (const name of ['Bad_Name', 'nodot', 'lead..x', 'Lead.Captured', 'lead.', '.lead', '1lead.captured', 'lead-captured.x', 'events']) {
        const response = await send(t, name, acme, seedLead('a@example.com'));
        expect(response.status, name).toBe(400);
        expect(response.body.message, name).toContain(name);
      }
      expect(await countEvents(t)).toBe(before);
    });

    it('a body over the default INBOUND_MAX_BYTES (256 KB) → 413', async () => {
      const before = await countEvents(t);
      const response = await send(t, 'lead.captured', acme, bodyOfSize(262_145));
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect(await countEvents(t)).toBe(before);
    });

    it('an Idempotency-Key that is empty or longer than 255 characters → 400', async () => {
      const before = await countEvents(t);
      for (const key of ['', 'k'.repeat(256)]) {
        const response = await send(t, 'test.event', acme, { a: 1 }, { 'Idempotency-Key': key });
        expect(response.status, `key of ${key.length}`).toBe(400);
        expect(response.body.message).toContain('Idempotency-Key');
      }
      expect(await countEvents(t)).toBe(before);
    });
  });

  describe('an app with INBOUND_MAX_BYTES=2048, INBOUND_RATE_LIMIT=1, INBOUND_RATE_BURST=10', () => {
    let small: TestApp;

    beforeAll(async () => {
      small = await startTestApp({ INBOUND_MAX_BYTES: '2048', INBOUND_RATE_LIMIT: '1', INBOUND_RATE_BURST: '10' });
    });

    afterAll(async () => {
      await small?.close();
    });

    it('takes a body of exactly INBOUND_MAX_BYTES and refuses one byte more with 413, storing nothing', async () => {
      const tenant = await tenantWithKey(small, 'sized');
      expect((await send(small, 'test.event', tenant, bodyOfSize(2048))).status).toBe(202);
      const before = await countEvents(small);
      for (const size of [2049, 4096, 100_000]) {
        const response = await send(small, 'test.event', tenant, bodyOfSize(size));
        expect(response.status, `${size} bytes`).toBe(413);
        expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      }
      expect(await countEvents(small)).toBe(before);
    });

    it('keeps the limit to the inbound route: other routes take bigger bodies', async () => {
      const tenant = await tenantWithKey(small, 'other-routes');
      const response = await small.request('POST', '/api/contacts', {
        token: tenant.token,
        body: { email: uniqueEmail('big'), custom_fields: { notes: 'n'.repeat(4096) } },
      });
      expect(response.status, JSON.stringify(response.body).slice(0, 300)).toBe(201);
    });

    it('the 11th quick request → 429 with Retry-After; another tenant is unaffected; after Retry-After it passes again', async () => {
      const [limited, other] = await Promise.all([tenantWithKey(small, 'limited'), tenantWithKey(small, 'unaffected')]);
      // A refused request loads the tenant's key hashes into the instance's cache (401s take no token), so the
      // 11 requests below reach the limiter within a few milliseconds of each other (one token refills a second).
      expect((await send(small, 'test.event', { tenantId: limited.tenantId, apiKey: 'wrong' }, {})).status).toBe(401);
      const responses = await Promise.all(Array.from({ length: 11 }, (_, i) => send(small, 'test.event', limited, { i })));
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([...Array(10).fill(202), 429]);
      expect(await countEvents(small, limited.tenantId)).toBe(10);

      const rejected = responses.find((response) => response.status === 429)!;
      expect(rejected.body).toEqual({ statusCode: 429, code: 'INBOUND_RATE_LIMITED', error: 'Too Many Requests', message: expect.any(String) });
      const retryAfter = rejected.headers['retry-after'];
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

      // Still limited right now; another tenant on the same instance is not.
      expect((await send(small, 'test.event', limited, { again: true })).status).toBe(429);
      expect((await send(small, 'test.event', other, { other: true })).status).toBe(202);
      expect(await countEvents(small, limited.tenantId)).toBe(10);

      await sleep(Number(retryAfter) * 1000 + 50);
      const after = await send(small, 'test.event', limited, { after: true });
      expect(after.status).toBe(202);
      expect(await countEvents(small, limited.tenantId)).toBe(11);
    });
    it('the limit holds for the tenant whatever the case of X-Tenant-ID', async () => {
      const tenant = await tenantWithKey(small, 'casey');
      expect((await send(small, 'test.event', { tenantId: tenant.tenantId, apiKey: 'wrong' }, {})).status).toBe(401);
      const burst = await Promise.all(Array.from({ length: 11 }, (_, i) => send(small, 'test.event', tenant, { i })));
      expect(burst.filter((response) => response.status === 429)).toHaveLength(1);
      const upper = await send(small, 'test.event', { tenantId: tenant.tenantId.toUpperCase(), apiKey: tenant.apiKey }, { upper: true });
      expect(upper.status).toBe(429);
    });
  });

  describe('Idempotency-Key', () => {
    it('a repeat returns the first event with 200 and stores nothing; another key or another tenant stores a new one', async () => {
      const key = `order-${randomUUID()}`;
      const before = await countEvents(t);
      const first = await send(t, 'test.event', acme, { attempt: 1 }, { 'Idempotency-Key': key });
      expect(first.status).toBe(202);

      const repeat = await send(t, 'test.event', acme, { attempt: 2 }, { 'Idempotency-Key': key });
      expect(repeat.status).toBe(200);
      expect(Object.keys(repeat.body).sort()).toEqual(SEED_RESPONSE_KEYS);
      expect(repeat.body.id).toBe(first.body.id);
      expect(repeat.body.payload).toEqual({ attempt: 1 });
      expect(repeat.body.received_at).toBe(first.body.received_at);
      expect(await countEvents(t)).toBe(before + 1);

      const otherKey = await send(t, 'test.event', acme, { attempt: 1 }, { 'Idempotency-Key': `${key}-2` });
      expect(otherKey.status).toBe(202);
      expect(otherKey.body.id).not.toBe(first.body.id);

      const otherTenant = await send(t, 'test.event', globex, { attempt: 1 }, { 'Idempotency-Key': key });
      expect(otherTenant.status).toBe(202);
      expect(otherTenant.body.id).not.toBe(first.body.id);
      expect(otherTenant.body.tenant_id).toBe(globex.tenantId);
      expect(await countEvents(t)).toBe(before + 3);
      const rows = await t.sql('SELECT tenant_id FROM integration_events WHERE idempotency_key = $1 ORDER BY tenant_id', [key]);
      expect(rows.map((row) => row.tenant_id).sort()).toEqual([acme.tenantId, globex.tenantId].sort());
    });

    it('the same key sent 5 times at once → one 202, four 200 with the same id, one row', async () => {
      const key = `burst-${randomUUID()}`;
      const responses = await Promise.all(Array.from({ length: 5 }, (_, i) => send(t, 'test.event', acme, { i }, { 'Idempotency-Key': key })));
      expect(responses.map((response) => response.status).sort()).toEqual([200, 200, 200, 200, 202]);
      expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
      const [{ n }] = await t.sql('SELECT count(*)::int AS n FROM integration_events WHERE idempotency_key = $1', [key]);
      expect(n).toBe(1);
    });

    it('requests that arrive together are stored together (group commit): each answered with its own row, committed', async () => {
      const run = randomUUID();
      // A tenant of its own: its rate limiter's burst (200) is all this test's.
      const sender = await tenantWithKey(t, 'group-commit');
      const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => send(t, 'test.event', sender, { run, i })));
      expect(responses.map((response) => response.status)).toEqual(Array(200).fill(202));
      const rows = await t.sql<{ id: string; i: number; tx: string }>(
        `SELECT id, (payload->>'i')::int AS i, xmin::text AS tx FROM integration_events WHERE payload->>'run' = $1`,
        [run],
      );
      // Every answer names a committed row holding exactly what that request sent.
      expect(rows).toHaveLength(200);
      const byId = new Map(rows.map((row) => [row.id, row.i]));
      expect(responses.map((response) => byId.get(response.body.id))).toEqual(responses.map((response) => response.body.payload.i));
      // …and the rows came in far fewer transactions (multi-row INSERTs) than requests.
      expect(new Set(rows.map((row) => row.tx)).size).toBeLessThan(100);
    });

    it('stores each payload of a shared INSERT exactly as it was sent, and answers with it', async () => {
      const sender = await tenantWithKey(t, 'payload-fidelity');
      const payloads = Array.from({ length: 40 }, (_, i) => ({
        i,
        text: `quote " backslash \\ slash / tab \t newline \n ${i}`,
        unicode: 'Zoë 😀 中文 \u2028\u2029',
        'key "quoted" \\': 'value',
        nested: { list: [1, -2.5, 1e21, 0, null, true, false, { deep: [[], {}] }], empty: {} },
        amount: 12345678.125,
      }));
      const responses = await Promise.all(payloads.map((payload, i) => send(t, 'test.event', sender, payload, i % 3 === 0 ? { 'Idempotency-Key': `fidelity-${i}` } : {})));
      expect(responses.map((response) => response.status)).toEqual(Array(40).fill(202));
      expect(responses.map((response) => response.body.payload)).toEqual(payloads);
      const rows = await t.sql<{ id: string; payload: Record<string, unknown>; tx: string }>(
        'SELECT id, payload, xmin::text AS tx FROM integration_events WHERE tenant_id = $1',
        [sender.tenantId],
      );
      const stored = new Map(rows.map((row) => [row.id, row.payload]));
      expect(responses.map((response) => stored.get(response.body.id))).toEqual(payloads);
      expect(new Set(rows.map((row) => row.tx)).size).toBeLessThan(40);
      const one = await t.request('GET', `/api/webhooks/events/${responses[7].body.id}`, { token: sender.token });
      expect(one.body.payload).toEqual(payloads[7]);
    });

    it('a key first seen more than 24 h ago stores a new event (202); repeats of it then return the new one', async () => {
      const key = `old-${randomUUID()}`;
      const first = await send(t, 'test.event', acme, { n: 1 }, { 'Idempotency-Key': key });
      expect(first.status).toBe(202);
      await t.sql(`UPDATE integration_events SET received_at = received_at - interval '25 hours' WHERE id = $1`, [first.body.id]);

      const before = await countEvents(t, acme.tenantId);
      const late = await send(t, 'test.event', acme, { n: 2 }, { 'Idempotency-Key': key });
      expect(late.status).toBe(202);
      expect(late.body.id).not.toBe(first.body.id);
      expect(late.body.payload).toEqual({ n: 2 });
      expect(await countEvents(t, acme.tenantId)).toBe(before + 1);

      const repeat = await send(t, 'test.event', acme, { n: 3 }, { 'Idempotency-Key': key });
      expect(repeat.status).toBe(200);
      expect(repeat.body.id).toBe(late.body.id);
      expect(await countEvents(t, acme.tenantId)).toBe(before + 1);
    });
  });

  describe('key rotation', () => {
    it('grace_seconds 0: the old key is refused at once, the new one works', async () => {
      const tenant = await tenantWithKey(t, 'rotate0');
      const old = tenant.apiKey;
      expect((await send(t, 'test.event', tenant, { k: 'old' })).status).toBe(202);

      const rotated = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: tenant.token, body: { grace_seconds: 0 } });
      expect(rotated.status).toBe(200);
      expect(rotated.body.previous_key_expires_at).toBeNull();
      expect(rotated.body.api_key).not.toBe(old);

      const before = await countEvents(t, tenant.tenantId);
      expect((await send(t, 'test.event', { tenantId: tenant.tenantId, apiKey: old }, { k: 'old' })).status).toBe(401);
      expect(await countEvents(t, tenant.tenantId)).toBe(before);
      expect((await send(t, 'test.event', { tenantId: tenant.tenantId, apiKey: rotated.body.api_key }, { k: 'new' })).status).toBe(202);
    });

    it('accepts X-Tenant-ID in upper case (UUIDs are case-insensitive) and answers with the canonical id', async () => {
      const tenant = await tenantWithKey(t, 'uppercase');
      const response = await send(t, 'test.event', { tenantId: tenant.tenantId.toUpperCase(), apiKey: tenant.apiKey }, { upper: true });
      expect(response.status).toBe(202);
      expect(response.body.tenant_id).toBe(tenant.tenantId);
    });
    it('grace_seconds 0 refuses the old key at once whatever the case of X-Tenant-ID', async () => {
      const tenant = await tenantWithKey(t, 'rotate-case');
      const upperOld: Credentials = { tenantId: tenant.tenantId.toUpperCase(), apiKey: tenant.apiKey };
      expect((await send(t, 'test.event', upperOld, { k: 'old' })).status).toBe(202);
      const rotated = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: tenant.token, body: { grace_seconds: 0 } });
      expect(rotated.status).toBe(200);
      expect((await send(t, 'test.event', upperOld, { k: 'old, after rotation' })).status).toBe(401);
    });

    it('grace_seconds 60: both keys work; once the grace is over the old key → 401', async () => {
      const tenant = await tenantWithKey(t, 'rotate60');
      const old: Credentials = { tenantId: tenant.tenantId, apiKey: tenant.apiKey };
      const startedAt = Date.now();
      const rotated = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: tenant.token, body: { grace_seconds: 60 } });
      expect(rotated.status).toBe(200);
      const expiresIn = Date.parse(rotated.body.previous_key_expires_at) - startedAt;
      expect(expiresIn).toBeGreaterThan(55_000);
      expect(expiresIn).toBeLessThan(65_000);
      const fresh: Credentials = { tenantId: tenant.tenantId, apiKey: rotated.body.api_key };

      expect((await send(t, 'test.event', old, { k: 'old' })).status).toBe(202);
      expect((await send(t, 'test.event', fresh, { k: 'new' })).status).toBe(202);

      // End the grace in the database; the instance caches key hashes for 5 s, so wait that out.
      await t.sql(`UPDATE tenants SET previous_webhook_api_key_expires_at = now() - interval '1 second' WHERE id = $1`, [tenant.tenantId]);
      await sleep(5_500);
      const before = await countEvents(t, tenant.tenantId);
      expect((await send(t, 'test.event', old, { k: 'old' })).status).toBe(401);
      expect(await countEvents(t, tenant.tenantId)).toBe(before);
      expect((await send(t, 'test.event', fresh, { k: 'new' })).status).toBe(202);
    });

    it('only an admin rotates the key; grace_seconds must be a whole number ≥ 0', async () => {
      const tenant = await tenantWithKey(t, 'rotate-rules');
      const memberEmail = uniqueEmail('member');
      expect((await t.request('POST', '/api/users', { token: tenant.token, body: { email: memberEmail, name: 'Mo Member', password: PASSWORD } })).status).toBe(201);
      const login = await t.request('POST', '/api/auth/login', { body: { email: memberEmail, password: PASSWORD } });
      expect((await t.request('POST', '/api/tenants/current/webhook-api-key', { token: login.body.token })).status).toBe(403);
      for (const grace of [-1, 1.5, 'soon']) {
        const response = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: tenant.token, body: { grace_seconds: grace } });
        expect(response.status, String(grace)).toBe(400);
      }
      // The refused attempts left the key as it was.
      expect((await send(t, 'test.event', tenant, { still: 'valid' })).status).toBe(202);
    });
  });

  describe('processing', () => {
    const createdHook = '/contact-created';
    const updatedHook = '/contact-updated';
    const invoiceHook = '/invoices';

    beforeAll(async () => {
      for (const [eventName, path] of [
        ['contact.created', createdHook],
        ['contact.updated', updatedHook],
        ['invoice.*', invoiceHook],
      ]) {
        const response = await t.request('POST', '/api/webhooks/subscriptions', { token: acme.token, body: { event_name: eventName, target_url: receiver.url(path) } });
        expect(response.status, JSON.stringify(response.body)).toBe(201);
      }
    });

    const deliveredTo = (path: string, predicate: (body: any) => boolean) => receiver.waitFor((all) => all.some((r) => r.path === path && predicate(r.body)), 10_000);
    const deliveries = (path: string, predicate: (body: any) => boolean): ReceivedWebhook[] => receiver.on(path).filter((r) => predicate(r.body));

    it('lead.captured → processed within 1 s with {contact_id, action: "created"}; the contact holds the lead; contact.created is delivered', async () => {
      const email = uniqueEmail('seedlead');
      const body = seedLead(email);
      const response = await send(t, 'lead.captured', acme, body);
      expect(response.status).toBe(202);
      const acceptedAt = Date.now();
      const event = await settled(t, acme.token, response.body.id, 1_000);
      expect(Date.now() - acceptedAt).toBeLessThan(1_000);
      expect(event).toMatchObject({
        status: 'processed',
        attempts: 1,
        error_message: null,
        result: { contact_id: expect.stringMatching(UUID), action: 'created' },
        processed_at: expect.stringMatching(ISO_UTC),
      });

      const contact = await t.request('GET', `/api/contacts/${event.result.contact_id}`, { token: acme.token });
      expect(contact.status).toBe(200);
      expect(contact.body).toMatchObject({ email, source: 'website_form' });
      expect(contact.body.custom_fields).toMatchObject({ utm_campaign: 'summer2025', metadata: body.metadata });

      await deliveredTo(createdHook, (b) => b.contact_id === event.result.contact_id);
      const [delivery] = deliveries(createdHook, (b) => b.contact_id === event.result.contact_id);
      expect(delivery.body).toMatchObject({ event_name: 'contact.created', contact_id: event.result.contact_id, email, tenant_id: acme.tenantId });
      expect(delivery.headers['x-webhook-event']).toBe('contact.created');
    });

    it('a backlog that arrives together is applied as one batch: one contact per email, in order, whatever the case', async () => {
      const tenant = await tenantWithKey(t, 'batched-leads');
      const run = randomUUID().slice(0, 8);
      const known = await t.request('POST', '/api/contacts', { token: tenant.token, body: { email: `known-${run}@example.com`, first_name: 'Kim' } });
      expect(known.status).toBe(201);
      // One transaction makes the rows visible together, so the processor claims them in one batch.
      const leads = [
        { email: `new-${run}@example.com`, name: 'Ada Lovelace' },
        { email: `NEW-${run}@Example.com`, company: 'Analytical Engines' },
        { email: `known-${run}@example.com`, name: 'Kim Known' },
        { email: `other-${run}@example.com` },
      ];
      const rows = await t.sql<{ id: string }>(
        `WITH leads AS (SELECT value, ordinality FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY)
         INSERT INTO integration_events (tenant_id, event_name, payload, received_at)
         SELECT $1, 'lead.captured', value, now() + ordinality * interval '1 millisecond' FROM leads ORDER BY ordinality RETURNING id`,
        [tenant.tenantId, JSON.stringify(leads)],
      );
      await t.sql(`SELECT pg_notify('junction_inbound_events', '')`);
      const events = [];
      for (const row of rows) events.push(await settled(t, tenant.token, row.id));
      expect(events.map((event) => [event.status, event.result.action])).toEqual([
        ['processed', 'created'],
        ['processed', 'updated'],
        ['processed', 'updated'],
        ['processed', 'created'],
      ]);
      expect(events[1].result.contact_id).toBe(events[0].result.contact_id);
      expect(events[2].result.contact_id).toBe(known.body.id);
      // All four outcomes, and the contacts they made, committed in one transaction.
      const writers = await t.sql<{ tx: string }>(
        `SELECT xmin::text AS tx FROM integration_events WHERE id = ANY($1::uuid[])
         UNION ALL SELECT xmin::text FROM contacts WHERE tenant_id = $2 AND email <> $3`,
        [rows.map((row) => row.id), tenant.tenantId, `known-${run}@example.com`],
      );
      expect(writers).toHaveLength(6);
      expect(new Set(writers.map((row) => row.tx)).size).toBe(1);
      const contacts = await t.sql<{ email: string; company: string | null; first_name: string | null }>(
        'SELECT email, company, first_name FROM contacts WHERE tenant_id = $1 ORDER BY email',
        [tenant.tenantId],
      );
      expect(contacts).toEqual([
        { email: `known-${run}@example.com`, company: null, first_name: 'Kim' },
        { email: `new-${run}@example.com`, company: 'Analytical Engines', first_name: 'Ada' },
        { email: `other-${run}@example.com`, company: null, first_name: null },
      ]);
    });

    it('the same lead again → updated or unchanged, never a second contact; a changed lead → updated with contact.updated', async () => {
      const email = uniqueEmail('repeat');
      const first = await sendAndSettle(t, acme, 'lead.captured', seedLead(email));
      expect(first.result.action).toBe('created');

      const again = await sendAndSettle(t, acme, 'lead.captured', seedLead(email));
      expect(again.status).toBe('processed');
      expect(['updated', 'unchanged']).toContain(again.result.action);
      expect(again.result.contact_id).toBe(first.result.contact_id);

      // Another case of the address is the same contact.
      const upper = await sendAndSettle(t, acme, 'lead.captured', { ...seedLead(email.toUpperCase()), utm_campaign: 'winter2025' });
      expect(upper.result).toEqual({ contact_id: first.result.contact_id, action: 'updated' });
      expect(await contactsWithEmail(t, acme.tenantId, email)).toHaveLength(1);
      const [contact] = await contactsWithEmail(t, acme.tenantId, email);
      expect(contact.custom_fields.utm_campaign).toBe('winter2025');

      await deliveredTo(updatedHook, (b) => b.contact_id === first.result.contact_id && b.changes?.custom_fields);
      const [{ n }] = await t.sql(
        `SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1 AND event_name = 'contact.created' AND payload->>'contact_id' = $2`,
        [acme.tenantId, first.result.contact_id],
      );
      expect(n).toBe(1);
    });

    it('the same new lead 4 times at once → all processed, one contact, one contact.created', { timeout: 20_000 }, async () => {
      const email = uniqueEmail('race');
      const responses = await Promise.all(Array.from({ length: 4 }, () => send(t, 'lead.captured', acme, seedLead(email))));
      expect(responses.map((response) => response.status)).toEqual([202, 202, 202, 202]);
      // A loser of the race on the unique email is retried with backoff (2 s), then finds the contact.
      const events = await Promise.all(responses.map((response) => settled(t, acme.token, response.body.id, 15_000)));
      expect(events.map((event) => event.status)).toEqual(['processed', 'processed', 'processed', 'processed']);
      expect(events.filter((event) => event.result.action === 'created')).toHaveLength(1);
      expect(new Set(events.map((event) => event.result.contact_id)).size).toBe(1);
      expect(await contactsWithEmail(t, acme.tenantId, email)).toHaveLength(1);
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1 AND event_name = 'contact.created' AND lower(payload->>'email') = $2`, [
        acme.tenantId,
        email.toLowerCase(),
      ]);
      expect(n).toBe(1);
    });

    it('a lead with name: "Ada Lovelace" → first_name Ada, last_name Lovelace', async () => {
      const email = uniqueEmail('ada');
      const event = await sendAndSettle(t, acme, 'lead.captured', { email, name: 'Ada Lovelace', source: 'website' });
      expect(event.result.action).toBe('created');
      const contact = await t.request('GET', `/api/contacts/${event.result.contact_id}`, { token: acme.token });
      expect(contact.body).toMatchObject({ email, first_name: 'Ada', last_name: 'Lovelace', source: 'website' });
    });
    it('a later lead without source keeps the contact\'s source', async () => {
      const email = uniqueEmail('keepsource');
      const first = await sendAndSettle(t, acme, 'lead.captured', seedLead(email));
      const second = await sendAndSettle(t, acme, 'lead.captured', { email, name: 'Grace Hopper' });
      expect(second.result).toEqual({ contact_id: first.result.contact_id, action: 'updated' });
      const [contact] = await contactsWithEmail(t, acme.tenantId, email);
      expect(contact.first_name).toBe('Grace');
      expect(contact.source).toBe('website_form');
    });

    it('contact.upsert creates, then updates the contact by email (custom_fields merged)', async () => {
      const email = uniqueEmail('upsert');
      const created = await sendAndSettle(t, acme, 'contact.upsert', {
        email,
        first_name: 'Linus',
        last_name: 'Torvalds',
        company: 'Kernel Ltd',
        phone: '+1 555 0100',
        custom_fields: { tier: 'gold' },
      });
      expect(created).toMatchObject({ status: 'processed', result: { contact_id: expect.stringMatching(UUID), action: 'created' } });
      await deliveredTo(createdHook, (b) => b.contact_id === created.result.contact_id);

      const updated = await sendAndSettle(t, acme, 'contact.upsert', { email, company: 'Linux Foundation', custom_fields: { region: 'eu' } });
      expect(updated.result).toEqual({ contact_id: created.result.contact_id, action: 'updated' });
      const contact = await t.request('GET', `/api/contacts/${created.result.contact_id}`, { token: acme.token });
      expect(contact.body).toMatchObject({
        email,
        first_name: 'Linus',
        last_name: 'Torvalds',
        company: 'Linux Foundation',
        phone: '+1 555 0100',
        custom_fields: { tier: 'gold', region: 'eu' },
      });
      await deliveredTo(updatedHook, (b) => b.contact_id === created.result.contact_id && b.changes?.company?.to === 'Linux Foundation');

      const unchanged = await sendAndSettle(t, acme, 'contact.upsert', { email, company: 'Linux Foundation' });
      expect(unchanged.result).toEqual({ contact_id: created.result.contact_id, action: 'unchanged' });
      expect(await contactsWithEmail(t, acme.tenantId, email)).toHaveLength(1);
    });

    it('payment.received → an invoice paid (in_123, 49.00 USD) linked to the created contact; invoice.created and invoice.paid delivered; a repeat is unchanged', async () => {
      const email = uniqueEmail('payer');
      const payment = { amount: 49, currency: 'usd', customer_email: email, invoice_id: 'in_123' };
      const event = await sendAndSettle(t, acme, 'payment.received', payment);
      expect(event).toMatchObject({
        status: 'processed',
        attempts: 1,
        result: { invoice_id: expect.stringMatching(UUID), contact_id: expect.stringMatching(UUID), action: 'created' },
      });

      const invoices = await t.request('GET', '/api/invoices', { token: acme.token, query: { external_id: 'in_123' } });
      expect(invoices.body.data).toHaveLength(1);
      const [invoice] = invoices.body.data;
      expect(invoice).toMatchObject({
        id: event.result.invoice_id,
        external_id: 'in_123',
        status: 'paid',
        amount: '49.00',
        currency: 'USD',
        contact_id: event.result.contact_id,
        paid_at: expect.stringMatching(ISO_UTC),
      });
      const [contact] = await contactsWithEmail(t, acme.tenantId, email);
      expect(contact.id).toBe(event.result.contact_id);

      await receiver.waitFor(
        (all) => ['invoice.created', 'invoice.paid'].every((name) => all.some((r) => r.path === invoiceHook && r.body.event_name === name && r.body.invoice_id === invoice.id)),
        10_000,
      );
      expect(deliveries(invoiceHook, (b) => b.invoice_id === invoice.id).map((r) => r.body.event_name).sort()).toEqual(['invoice.created', 'invoice.paid']);

      const again = await sendAndSettle(t, acme, 'payment.received', payment);
      expect(again).toMatchObject({ status: 'processed', result: { invoice_id: invoice.id, contact_id: contact.id, action: 'unchanged' } });
      const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1 AND external_id = 'in_123'`, [acme.tenantId]);
      expect(n).toBe(1);
      await sleep(300);
      expect(deliveries(invoiceHook, (b) => b.invoice_id === invoice.id)).toHaveLength(2);
    });

    it('payment.received for an existing open invoice → action paid, invoice.paid delivered', async () => {
      const email = uniqueEmail('openinv');
      const contact = await t.request('POST', '/api/contacts', { token: acme.token, body: { email, first_name: 'Olive' } });
      const externalId = `in_open_${randomBytes(4).toString('hex')}`;
      const open = await t.request('POST', '/api/invoices', {
        token: acme.token,
        body: { number: `INV-${externalId}`, amount: '120.50', currency: 'EUR', contact_id: contact.body.id, external_id: externalId },
      });
      expect(open.status, JSON.stringify(open.body)).toBe(201);
      expect(open.body.status).toBe('open');

      const event = await sendAndSettle(t, acme, 'payment.received', { amount: '120.50', currency: 'eur', customer_email: email, invoice_id: externalId });
      expect(event.result).toEqual({ invoice_id: open.body.id, contact_id: contact.body.id, action: 'paid', contact_action: 'unchanged' });
      const invoice = await t.request('GET', `/api/invoices/${open.body.id}`, { token: acme.token });
      expect(invoice.body).toMatchObject({ status: 'paid', amount: '120.50', currency: 'EUR', paid_at: expect.stringMatching(ISO_UTC) });
      await deliveredTo(invoiceHook, (b) => b.event_name === 'invoice.paid' && b.invoice_id === open.body.id);
    });
    it('payment.received for an existing invoice without a contact links it to the customer', async () => {
      const email = uniqueEmail('nocontact');
      const externalId = `in_nc_${randomBytes(4).toString('hex')}`;
      const open = await t.request('POST', '/api/invoices', { token: acme.token, body: { number: `INV-${externalId}`, amount: 15, external_id: externalId } });
      expect(open.status).toBe(201);
      const event = await sendAndSettle(t, acme, 'payment.received', { amount: 15, currency: 'usd', customer_email: email, invoice_id: externalId });
      expect(event.result).toMatchObject({ invoice_id: open.body.id, action: 'paid' });
      const invoice = await t.request('GET', `/api/invoices/${open.body.id}`, { token: acme.token });
      expect(invoice.body).toMatchObject({ status: 'paid', contact_id: event.result.contact_id });
    });

    it('a payload a handler cannot use is refused at send time (400 naming the field); nothing is stored or written', async () => {
      const count = (): Promise<Array<{ contacts: number; invoices: number; events: number }>> =>
        t.sql(
          `SELECT (SELECT count(*)::int FROM contacts WHERE tenant_id = $1) AS contacts, (SELECT count(*)::int FROM invoices WHERE tenant_id = $1) AS invoices,
                  (SELECT count(*)::int FROM integration_events WHERE tenant_id = $1) AS events`,
          [acme.tenantId],
        );
      const before = await count();
      const payer = uniqueEmail('badpay');
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['lead.captured', { name: 'No Email', source: 'website_form' }, 'email'],
        ['lead.captured', { email: 'not-an-email' }, 'email'],
        ['contact.upsert', { first_name: 'No Email' }, 'email'],
        ['contact.upsert', { email: uniqueEmail('cf'), custom_fields: ['a'] }, 'custom_fields'],
        ['payment.received', { amount: 49, currency: 'usd', customer_email: payer }, 'invoice_id'],
        ['payment.received', { amount: -5, currency: 'usd', customer_email: payer, invoice_id: 'in_neg' }, 'amount'],
        ['payment.received', { amount: 'abc', currency: 'usd', customer_email: payer, invoice_id: 'in_abc' }, 'amount'],
        ['payment.received', { amount: 49.999, currency: 'usd', customer_email: payer, invoice_id: 'in_prec' }, 'amount'],
        ['payment.received', { amount: 49, currency: 'u$d', customer_email: payer, invoice_id: 'in_cur' }, 'currency'],
        ['payment.received', { amount: 49, currency: 'usd', invoice_id: 'in_nomail' }, 'customer_email'],
      ];
      const sent = await Promise.all(cases.map(([name, payload]) => send(t, name, acme, payload)));
      for (const [index, [name, payload, field]] of cases.entries()) {
        const label = `${name} ${JSON.stringify(payload)}`;
        expect(sent[index].status, label).toBe(400);
        expect(sent[index].body.code, label).toBe('VALIDATION_FAILED');
        expect(sent[index].body.details, label).toEqual([{ field, message: expect.stringContaining(field) }]);
      }
      expect(await count()).toEqual(before);
    });

    it('what can only fail later fails at once when processed (attempts 1), its transaction rolled back', async () => {
      const externalId = `in_void_${randomBytes(4).toString('hex')}`;
      const voided = await t.request('POST', '/api/invoices', { token: acme.token, body: { number: `INV-${externalId}`, amount: 15, external_id: externalId, status: 'void' } });
      expect(voided.status, JSON.stringify(voided.body)).toBe(201);
      const payer = uniqueEmail('voidpay');
      const event = await sendAndSettle(t, acme, 'payment.received', { amount: 15, currency: 'usd', customer_email: payer, invoice_id: externalId });
      expect(event).toMatchObject({ status: 'failed', attempts: 1, result: null });
      expect(event.processed_at).toMatch(ISO_UTC);
      expect(event.error_message).toContain('void');
      const contacts = await t.sql('SELECT count(*)::int AS n FROM contacts WHERE tenant_id = $1 AND lower(email) = lower($2)', [acme.tenantId, payer]);
      expect(contacts[0].n).toBe(0);
    });

    it('an unknown event name (foo.bar) is stored and ignored', async () => {
      const event = await sendAndSettle(t, acme, 'foo.bar', { anything: [1, 2, 3] });
      expect(event).toMatchObject({ status: 'ignored', attempts: 1, error_message: null, result: null, payload: { anything: [1, 2, 3] } });
    });
  });

  describe('the events API', () => {
    let tenant: Tenant;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      tenant = await tenantWithKey(t, 'events-api');
      const voidId = `in_void_${randomBytes(4).toString('hex')}`;
      const voided = await t.request('POST', '/api/invoices', { token: tenant.token, body: { number: `INV-${voidId}`, amount: 5, external_id: voidId, status: 'void' } });
      expect(voided.status).toBe(201);
      const outcomes = await Promise.all([
        sendAndSettle(t, tenant, 'lead.captured', seedLead(uniqueEmail('list1'))),
        sendAndSettle(t, tenant, 'lead.captured', seedLead(uniqueEmail('list2'))),
        sendAndSettle(t, tenant, 'payment.received', { amount: 5, currency: 'usd', customer_email: uniqueEmail('void'), invoice_id: voidId }),
        sendAndSettle(t, tenant, 'test.event', { test: 'data' }),
        sendAndSettle(t, tenant, 'payment.received', { amount: 10, currency: 'usd', customer_email: uniqueEmail('list3'), invoice_id: `in_${randomBytes(4).toString('hex')}` }),
      ]);
      expect(outcomes.map((event) => event.status)).toEqual(['processed', 'processed', 'failed', 'ignored', 'processed']);
      ids.failed = outcomes[2].id;
      ids.ignored = outcomes[3].id;
      ids.processed = outcomes[0].id;
    });

    it('lists the tenant\'s events newest first, filtered by status and event_name', async () => {
      const all = await t.request('GET', '/api/webhooks/events', { token: tenant.token });
      expect(all.status).toBe(200);
      expect(all.body.data).toHaveLength(5);
      expect(all.body.next_cursor).toBeNull();
      expect(all.body.data.every((event: any) => event.tenant_id === tenant.tenantId)).toBe(true);
      const times = all.body.data.map((event: any) => Date.parse(event.received_at));
      expect([...times].sort((a, b) => b - a)).toEqual(times);

      const failed = await t.request('GET', '/api/webhooks/events', { token: tenant.token, query: { status: 'failed' } });
      expect(failed.body.data.map((event: any) => event.id)).toEqual([ids.failed]);
      const leads = await t.request('GET', '/api/webhooks/events', { token: tenant.token, query: { event_name: 'lead.captured' } });
      expect(leads.body.data).toHaveLength(2);
      expect(leads.body.data.every((event: any) => event.event_name === 'lead.captured')).toBe(true);
      const both = await t.request('GET', '/api/webhooks/events', { token: tenant.token, query: { status: 'processed', event_name: 'lead.captured' } });
      expect(both.body.data).toHaveLength(2);
      const none = await t.request('GET', '/api/webhooks/events', { token: tenant.token, query: { event_name: 'nothing.here' } });
      expect(none.body).toEqual({ data: [], next_cursor: null });

      const bad = await t.request('GET', '/api/webhooks/events', { token: tenant.token, query: { status: 'done' } });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('status');
      expect((await t.request('GET', '/api/webhooks/events')).status).toBe(401);
    });

    it('pages with an opaque cursor, each event once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: ApiResponse = await t.request('GET', '/api/webhooks/events', { token: tenant.token, query: cursor ? { limit: 2, cursor } : { limit: 2 } });
        expect(page.status).toBe(200);
        expect(page.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.data.map((event: any) => event.id));
        cursor = page.body.next_cursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(5);
      const rows = await t.sql('SELECT id FROM integration_events WHERE tenant_id = $1', [tenant.tenantId]);
      expect(new Set(seen)).toEqual(new Set(rows.map((row) => row.id)));
    });

    it('GET :id: another tenant\'s event → 404 like a missing one; a malformed id → 400', async () => {
      const own = await t.request('GET', `/api/webhooks/events/${ids.processed}`, { token: tenant.token });
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ id: ids.processed, status: 'processed', attempts: 1 });

      const foreign = await t.request('GET', `/api/webhooks/events/${ids.processed}`, { token: globex.token });
      const missing = await t.request('GET', `/api/webhooks/events/${randomUUID()}`, { token: globex.token });
      expect(foreign.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(foreign.body.message.replace(ids.processed, 'ID')).toBe(missing.body.message.replace(/[0-9a-f-]{36}/, 'ID'));
      expect((await t.request('GET', '/api/webhooks/events/not-a-uuid', { token: tenant.token })).status).toBe(400);
      expect((await t.request('POST', `/api/webhooks/events/${ids.failed}/retry`, { token: globex.token })).status).toBe(404);
      expect((await t.request('POST', '/api/webhooks/events/not-a-uuid/retry', { token: tenant.token })).status).toBe(400);
    });

    it('retry: a failed payment runs again and fails again (attempts 2); an ignored event is ignored again (attempts 2)', async () => {
      const retried = await t.request('POST', `/api/webhooks/events/${ids.failed}/retry`, { token: tenant.token });
      expect(retried.status).toBe(200);
      expect(retried.body.id).toBe(ids.failed);
      expect(['received', 'processing', 'failed']).toContain(retried.body.status);
      const failedAgain = await settled(t, tenant.token, ids.failed);
      expect(failedAgain).toMatchObject({ status: 'failed', attempts: 2, error_message: expect.stringContaining('void') });

      const ignored = await t.request('POST', `/api/webhooks/events/${ids.ignored}/retry`, { token: tenant.token });
      expect(ignored.status).toBe(200);
      expect(await settled(t, tenant.token, ids.ignored)).toMatchObject({ status: 'ignored', attempts: 2 });
    });

    it('retry after the cause is fixed: a payment for a void invoice fails, the invoice is moved aside, the retry processes it', async () => {
      const externalId = `in_void_${randomBytes(4).toString('hex')}`;
      const email = uniqueEmail('voidpay');
      const created = await t.request('POST', '/api/invoices', { token: tenant.token, body: { number: `INV-${externalId}`, amount: 30, external_id: externalId } });
      expect(created.status).toBe(201);
      expect((await t.request('PATCH', `/api/invoices/${created.body.id}`, { token: tenant.token, body: { status: 'void' } })).status).toBe(200);

      const failed = await sendAndSettle(t, tenant, 'payment.received', { amount: 30, currency: 'usd', customer_email: email, invoice_id: externalId });
      expect(failed).toMatchObject({ status: 'failed', attempts: 1, error_message: expect.stringMatching(/void/) });

      // The fix: the void invoice no longer holds the external id.
      const patched = await t.request('PATCH', `/api/invoices/${created.body.id}`, { token: tenant.token, body: { external_id: null } });
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      const retried = await t.request('POST', `/api/webhooks/events/${failed.id}/retry`, { token: tenant.token });
      expect(retried.status).toBe(200);
      const processed = await settled(t, tenant.token, failed.id);
      expect(processed).toMatchObject({ status: 'processed', attempts: 2, error_message: null, result: { action: 'created' } });
      const invoice = await t.request('GET', `/api/invoices/${processed.result.invoice_id}`, { token: tenant.token });
      expect(invoice.body).toMatchObject({ external_id: externalId, status: 'paid', amount: '30.00' });
    });

    it('retry is for admins: a member → 403; a member can read events', async () => {
      const email = uniqueEmail('member');
      expect((await t.request('POST', '/api/users', { token: tenant.token, body: { email, name: 'Mia Member', password: PASSWORD } })).status).toBe(201);
      const login = await t.request('POST', '/api/auth/login', { body: { email, password: PASSWORD } });
      const member = login.body.token as string;
      expect((await t.request('GET', `/api/webhooks/events/${ids.failed}`, { token: member })).status).toBe(200);
      const denied = await t.request('POST', `/api/webhooks/events/${ids.failed}/retry`, { token: member });
      expect(denied.status).toBe(403);
      const [row] = await t.sql('SELECT status, attempts FROM integration_events WHERE id = $1', [ids.failed]);
      expect(row).toEqual({ status: 'failed', attempts: 2 });
    });
  });

  it('GET /api/metrics reports inbound events by status', async () => {
    const response = await t.request('GET', '/api/metrics');
    expect(response.status).toBe(200);
    const text = String(response.body);
    const [{ n }] = await t.sql(`SELECT count(*)::int AS n FROM integration_events WHERE status = 'processed'`);
    expect(n).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`^junction_inbound_events\\{status="processed"\\} ${n}$`, 'm'));
    expect(text).toMatch(/^junction_inbound_events\{status="failed"\} \d+$/m);
    expect(text).toMatch(/^junction_inbound_events\{status="ignored"\} \d+$/m);
  });
});
