import { describe, expect, it } from 'vitest';
import { buildInboundRequest, buildListRequest, describeCrmError, normalizeBaseUrl, toHttpOptions } from '../nodes/shared/api';
import { targetMatches } from '../nodes/shared/subscription';
import { planOperation, PlanError } from '../nodes/JunctionCrm/operations';

/** A parameter reader over plain values, as getNodeParameter(name, itemIndex, fallback) answers. */
const params =
  (values: Record<string, unknown>) =>
  (name: string, fallback?: unknown): unknown =>
    name in values ? values[name] : fallback;

describe('request building', () => {
  it('puts every route below /api of the credential’s base URL, whatever its trailing slash or /api', () => {
    for (const base of ['https://crm.example.com', 'https://crm.example.com/', 'https://crm.example.com/api', 'https://crm.example.com/api/']) {
      expect(normalizeBaseUrl(base)).toBe('https://crm.example.com');
    }
    const options = toHttpOptions('http://127.0.0.1:8001/', { method: 'GET', path: '/contacts', qs: { q: 'acme' } });
    expect(options).toMatchObject({
      method: 'GET',
      url: 'http://127.0.0.1:8001/api/contacts',
      qs: { q: 'acme' },
      json: true,
      returnFullResponse: true,
      ignoreHttpStatusErrors: true,
    });
    expect(options.body).toBeUndefined();
  });

  it('builds contact create with the email and the chosen fields only', () => {
    const plan = planOperation('contact', 'create', params({ email: 'ada@example.com', additionalFields: { first_name: 'Ada', company: '', custom_fields: '{"plan":"pro"}' } }));
    expect(plan).toEqual({
      kind: 'request',
      output: 'record',
      request: { method: 'POST', path: '/contacts', body: { email: 'ada@example.com', first_name: 'Ada', custom_fields: { plan: 'pro' } } },
    });
  });

  it('builds get, update and delete on the record’s path; an emptied field is sent as null on update', () => {
    const id = '550e8400-e29b-41d4-a716-446655440000';
    expect(planOperation('contact', 'get', params({ contactId: id }))).toMatchObject({ request: { method: 'GET', path: `/contacts/${id}` } });
    expect(planOperation('deal', 'delete', params({ dealId: id }))).toMatchObject({ request: { method: 'DELETE', path: `/deals/${id}` }, output: 'deleted' });
    expect(planOperation('deal', 'update', params({ dealId: id, updateFields: { stage: 'won', contact_id: '' } }))).toMatchObject({
      request: { method: 'PATCH', path: `/deals/${id}`, body: { stage: 'won', contact_id: null } },
    });
    expect(() => planOperation('deal', 'update', params({ dealId: id, updateFields: {} }))).toThrow(PlanError);
    expect(() => planOperation('contact', 'get', params({ contactId: ' ' }))).toThrow('Contact ID is empty');
  });

  it('builds deal and invoice create, and mark paid', () => {
    expect(planOperation('deal', 'create', params({ title: 'Acme annual plan', additionalFields: { value: '12000', stage: 'negotiation' } }))).toMatchObject({
      request: { method: 'POST', path: '/deals', body: { title: 'Acme annual plan', value: '12000', stage: 'negotiation' } },
    });
    expect(planOperation('invoice', 'create', params({ number: 'INV-1', amount: '49.00', additionalFields: { currency: 'eur' } }))).toMatchObject({
      request: { method: 'POST', path: '/invoices', body: { number: 'INV-1', amount: '49.00', currency: 'eur' } },
    });
    expect(planOperation('invoice', 'markPaid', params({ invoiceId: 'abc', options: {} }))).toMatchObject({
      request: { method: 'PATCH', path: '/invoices/abc', body: { status: 'paid' } },
    });
    expect(() => planOperation('invoice', 'delete', params({ invoiceId: 'abc' }))).toThrow('not supported');
  });

  it('lists with filters, a page size of at most 200 and the cursor', () => {
    const plan = planOperation('contact', 'getAll', params({ returnAll: false, limit: 500, filters: { q: 'acme', email: '' } }));
    expect(plan).toEqual({ kind: 'list', path: '/contacts', filters: { q: 'acme', email: '' }, returnAll: false, limit: 500 });
    expect(buildListRequest('/contacts', { q: 'acme', email: '' }, null, 500)).toEqual({ method: 'GET', path: '/contacts', qs: { q: 'acme', limit: 200 } });
    expect(buildListRequest('/deals', { stage: 'won' }, 'abc', 20)).toEqual({ method: 'GET', path: '/deals', qs: { stage: 'won', limit: 20, cursor: 'abc' } });
  });

  it('builds upsert by email', () => {
    expect(planOperation('contact', 'upsert', params({ email: ' ada@example.com ', additionalFields: { company: 'Acme' } }))).toEqual({
      kind: 'upsertContact',
      email: 'ada@example.com',
      fields: { company: 'Acme' },
    });
  });

  it('builds the guide’s lead.captured and payment.received, and any other event with a JSON body', () => {
    expect(
      planOperation('inboundEvent', 'send', params({
        eventType: 'lead.captured',
        email: 'lead@example.com',
        leadFields: { name: 'Ada Byron King', source: 'website_form', utm_campaign: 'summer2025', extra: '{"metadata":{"page_url":"https://example.com/pricing"}}' },
        inboundOptions: { idempotencyKey: 'f-1029' },
      })),
    ).toEqual({
      kind: 'inbound',
      eventName: 'lead.captured',
      idempotencyKey: 'f-1029',
      body: { email: 'lead@example.com', name: 'Ada Byron King', source: 'website_form', utm_campaign: 'summer2025', metadata: { page_url: 'https://example.com/pricing' } },
    });
    expect(
      planOperation('inboundEvent', 'send', params({ eventType: 'payment.received', customer_email: 'a@example.com', invoice_id: 'in_1', amount: 49, currency: 'usd' })),
    ).toEqual({ kind: 'inbound', eventName: 'payment.received', idempotencyKey: undefined, body: { customer_email: 'a@example.com', invoice_id: 'in_1', amount: 49, currency: 'usd' } });
    expect(planOperation('inboundEvent', 'send', params({ eventType: 'custom', eventName: 'contact.upsert', jsonBody: { email: 'a@example.com' } }))).toMatchObject({
      eventName: 'contact.upsert',
      body: { email: 'a@example.com' },
    });
    expect(() => planOperation('inboundEvent', 'send', params({ eventType: 'custom', eventName: 'Lead-Captured', jsonBody: '{}' }))).toThrow('not valid');
    expect(() => planOperation('inboundEvent', 'send', params({ eventType: 'custom', eventName: 'a.b', jsonBody: '[1]' }))).toThrow('JSON object');
  });

  it('sends inbound events with X-Tenant-ID, X-API-Key and the Idempotency-Key', () => {
    expect(buildInboundRequest('lead.captured', { email: 'a@example.com' }, { tenantId: 't', apiKey: 'jck_k', idempotencyKey: 'k1' })).toEqual({
      method: 'POST',
      path: '/webhooks/lead.captured',
      body: { email: 'a@example.com' },
      headers: { 'X-Tenant-ID': 't', 'X-API-Key': 'jck_k', 'content-type': 'application/json', 'Idempotency-Key': 'k1' },
    });
  });

  it('turns the CRM’s error body into a message, its details and a code', () => {
    expect(
      describeCrmError(400, { statusCode: 400, error: 'Bad Request', message: 'Validation failed', details: [{ field: 'email', message: 'email must be an email address' }] }),
    ).toMatchObject({ message: 'Validation failed', description: 'email: email must be an email address', code: 400 });
    expect(describeCrmError(502, 'Bad gateway')).toMatchObject({ message: 'Junction CRM answered HTTP 502: Bad gateway', code: 502 });
  });

  it('compares subscription targets as the CRM normalises them', () => {
    expect(targetMatches('http://127.0.0.1:5678/webhook/abc/webhook', 'http://127.0.0.1:5678/webhook/abc/webhook')).toBe(true);
    expect(targetMatches('https://n8n.example.com/webhook/abc/webhook', 'https://N8N.example.com:443/webhook/abc/webhook/')).toBe(true);
    expect(targetMatches('https://n8n.example.com/webhook/abc/webhook', 'https://n8n.example.com/webhook/def/webhook')).toBe(false);
  });
});
