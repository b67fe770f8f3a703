import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createContact, findContact, updateContact, upsertContact } from '../src/lib/actions/contacts';
import { customApiCall } from '../src/lib/actions/custom-api-call';
import { createDeal, updateDeal } from '../src/lib/actions/deals';
import { sendInboundEvent } from '../src/lib/actions/inbound';
import { createInvoice, markInvoicePaid } from '../src/lib/actions/invoices';
import { CrmApiError } from '../src/lib/client';
import { connection, runAction, type AuthValue } from './support/context';
import { api, eventually, newAccount, startCrm, type Account, type Crm } from './support/crm';

let crm: Crm;
let account: Account;
let auth: AuthValue;

before(async () => {
  crm = await startCrm();
  account = await newAccount(crm);
  auth = connection({ base_url: crm.baseUrl, api_token: account.apiToken, tenant_id: account.tenantId, inbound_api_key: account.inboundApiKey });
});

after(async () => {
  await crm?.stop();
});

const get = async (route: string) => {
  const response = await api(crm, 'GET', route, { token: account.apiToken });
  assert.equal(response.status, 200, `GET ${route}: ${JSON.stringify(response.body)}`);
  return response.body;
};

const noContact = { first_name: undefined, last_name: undefined, email: undefined, phone: undefined, company: undefined, source: undefined, custom_fields: undefined };

describe('contacts', () => {
  let contactId: string;

  it('create_contact creates the contact in the CRM', async () => {
    const contact = await runAction(createContact, auth, {
      ...noContact,
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: 'ada@example.com',
      company: 'Analytical Engines',
      source: 'activepieces',
      custom_fields: { utm_campaign: 'summer2026' },
    });
    contactId = contact.id;
    const stored = await get(`/contacts/${contactId}`);
    assert.equal(stored.email, 'ada@example.com');
    assert.equal(stored.company, 'Analytical Engines');
    assert.deepEqual(stored.custom_fields, { utm_campaign: 'summer2026' });
  });

  it("create_contact with a taken email fails with the CRM's status, message (and code)", async () => {
    const error = await runAction(createContact, auth, { ...noContact, email: 'ADA@example.com' }).then(
      () => assert.fail('should have failed'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof CrmApiError);
    assert.equal(error.status, 409);
    assert.equal(error.code, 'CONTACT_EMAIL_TAKEN');
    assert.match(error.message, /^Junction CRM answered 409 CONTACT_EMAIL_TAKEN: /);
    assert.ok(!/request failed with status/i.test(error.message));
    assert.ok(error.message.includes(error.crmMessage));
  });

  it('create_contact with a bad email says what is wrong with the field', async () => {
    await assert.rejects(runAction(createContact, auth, { ...noContact, email: 'not-an-email' }), /Junction CRM answered 400 VALIDATION_FAILED: .*email must be an email address/);
  });

  it('update_contact changes only the fields filled in', async () => {
    const updated = await runAction(updateContact, auth, { ...noContact, contact_id: contactId, phone: '+44 20 7946 0958', company: '' });
    assert.equal(updated.phone, '+44 20 7946 0958');
    const stored = await get(`/contacts/${contactId}`);
    assert.equal(stored.phone, '+44 20 7946 0958');
    assert.equal(stored.company, 'Analytical Engines');
    assert.equal(stored.first_name, 'Ada');
  });

  it('update_contact of an unknown id fails with 404', async () => {
    await assert.rejects(runAction(updateContact, auth, { ...noContact, contact_id: '00000000-0000-4000-8000-000000000000', phone: '1' }), /Junction CRM answered 404 CONTACT_NOT_FOUND: /);
  });

  it('find_contact finds by email (any case) and by search, and says when nothing matches', async () => {
    const byEmail = await runAction(findContact, auth, { email: 'Ada@Example.com', search: undefined, limit: undefined });
    assert.equal(byEmail.found, true);
    assert.equal(byEmail.contact.id, contactId);
    const bySearch = await runAction(findContact, auth, { email: undefined, search: 'analytical', limit: 5 });
    assert.equal(bySearch.count, 1);
    assert.equal(bySearch.contacts[0].id, contactId);
    const none = await runAction(findContact, auth, { email: 'nobody@example.com', search: undefined, limit: undefined });
    assert.deepEqual(none, { found: false, count: 0, contact: null, contacts: [] });
    await assert.rejects(runAction(findContact, auth, { email: '', search: undefined, limit: undefined }), /needs an Email or a Search/);
  });

  it('upsert_contact creates when the email is new and updates the same contact after', async () => {
    const first = await runAction(upsertContact, auth, { ...noContact, email: 'grace@example.com', first_name: 'Grace' });
    assert.equal(first.action, 'created');
    const second = await runAction(upsertContact, auth, { ...noContact, email: 'GRACE@example.com', last_name: 'Hopper' });
    assert.equal(second.action, 'updated');
    assert.equal(second.contact.id, first.contact.id);
    const { data } = await get('/contacts?email=grace@example.com');
    assert.equal(data.length, 1);
    assert.equal(data[0].first_name, 'Grace');
    assert.equal(data[0].last_name, 'Hopper');
  });
});

describe('deals', () => {
  it('create_deal then update_deal to won', async () => {
    const contact = await runAction(createContact, auth, { ...noContact, email: 'buyer@example.com' });
    const deal = await runAction(createDeal, auth, { title: 'Initech annual plan', value: '12000', currency: 'eur', stage: 'proposal', contact_id: contact.id });
    let stored = await get(`/deals/${deal.id}`);
    assert.equal(stored.title, 'Initech annual plan');
    assert.equal(stored.value, '12000.00');
    assert.equal(stored.currency, 'EUR');
    assert.equal(stored.stage, 'proposal');
    assert.equal(stored.contact_id, contact.id);

    await runAction(updateDeal, auth, { deal_id: deal.id, stage: 'won', title: undefined, value: undefined, currency: undefined, contact_id: undefined });
    stored = await get(`/deals/${deal.id}`);
    assert.equal(stored.stage, 'won');
    assert.equal(stored.title, 'Initech annual plan');
    const { data: deliveries } = await get('/webhooks/deliveries?limit=5');
    assert.ok(Array.isArray(deliveries));
  });

  it('create_deal with a bad value fails with the field’s message', async () => {
    await assert.rejects(
      runAction(createDeal, auth, { title: 'Bad', value: '12.345', currency: undefined, stage: undefined, contact_id: undefined }),
      /Junction CRM answered 400 VALIDATION_FAILED: value must be a number/,
    );
  });

  it('update_deal with nothing to change says so before calling the CRM', async () => {
    await assert.rejects(
      runAction(updateDeal, auth, { deal_id: '00000000-0000-4000-8000-000000000000', stage: undefined, title: '', value: undefined, currency: undefined, contact_id: undefined }),
      /nothing to change/,
    );
  });
});

describe('invoices', () => {
  it('create_invoice then mark_invoice_paid', async () => {
    const invoice = await runAction(createInvoice, auth, { number: 'INV-AP-0001', amount: '49.90', currency: 'EUR', status: undefined, contact_id: undefined, external_id: 'in_ap_1' });
    let stored = await get(`/invoices/${invoice.id}`);
    assert.equal(stored.status, 'open');
    assert.equal(stored.amount, '49.90');
    assert.equal(stored.external_id, 'in_ap_1');

    await runAction(markInvoicePaid, auth, { invoice_id: invoice.id, paid_at: '2026-01-15T10:30:00Z' });
    stored = await get(`/invoices/${invoice.id}`);
    assert.equal(stored.status, 'paid');
    assert.equal(stored.paid_at, '2026-01-15T10:30:00.000Z');
  });

  it('mark_invoice_paid without a date marks it paid now', async () => {
    const invoice = await runAction(createInvoice, auth, { number: 'INV-AP-0002', amount: '10', currency: undefined, status: undefined, contact_id: undefined, external_id: undefined });
    const before = Date.now();
    await runAction(markInvoicePaid, auth, { invoice_id: invoice.id, paid_at: undefined });
    const stored = await get(`/invoices/${invoice.id}`);
    assert.equal(stored.status, 'paid');
    assert.ok(Date.parse(stored.paid_at) >= before - 5_000);
  });
});

describe('send_inbound_event', () => {
  const processed = (id: string) =>
    eventually(async () => {
      const event = await get(`/webhooks/events/${id}`);
      return event.status === 'processed' || event.status === 'failed' ? event : undefined;
    }, `inbound event ${id} processed`);

  it('lead.captured: 202, processed into a contact', async () => {
    const answer = await runAction(sendInboundEvent, auth, {
      event_name: 'lead.captured',
      payload: { email: 'lead@example.com', name: 'Ada Byron King', source: 'website_form', utm_campaign: 'summer2026' },
      idempotency_key: 'form-1029',
    });
    assert.equal(answer.http_status, 202);
    assert.equal(answer.status, 'received');
    assert.equal(answer.event_name, 'lead.captured');
    const event = await processed(answer.id);
    assert.equal(event.status, 'processed', JSON.stringify(event));
    const { data } = await get('/contacts?email=lead@example.com');
    assert.equal(data[0].first_name, 'Ada');
    assert.equal(data[0].last_name, 'Byron King');

    const repeat = await runAction(sendInboundEvent, auth, { event_name: 'lead.captured', payload: { email: 'lead@example.com' }, idempotency_key: 'form-1029' });
    assert.equal(repeat.http_status, 200);
    assert.equal(repeat.id, answer.id);
  });

  it('payment.received: processed into a paid invoice', async () => {
    const answer = await runAction(sendInboundEvent, auth, {
      event_name: 'payment.received',
      payload: { amount: '19.90', currency: 'eur', customer_email: 'payer@example.com', invoice_id: 'in_3Qx7aB2eZvKYlo2C' },
      idempotency_key: undefined,
    });
    assert.equal(answer.http_status, 202);
    const event = await processed(answer.id);
    assert.equal(event.status, 'processed', JSON.stringify(event));
    const { data } = await get('/invoices?external_id=in_3Qx7aB2eZvKYlo2C');
    assert.equal(data[0].status, 'paid');
    assert.equal(data[0].amount, '19.90');
  });

  it('without tenant id and inbound key in the connection, says where to get them', async () => {
    const tokenOnly = connection({ base_url: crm.baseUrl, api_token: account.apiToken });
    await assert.rejects(runAction(sendInboundEvent, tokenOnly, { event_name: 'lead.captured', payload: { email: 'x@example.com' }, idempotency_key: undefined }), /Tenant ID and the Inbound API key/);
  });

  it('with a wrong inbound key, fails with 401', async () => {
    const wrongKey = connection({ base_url: crm.baseUrl, api_token: account.apiToken, tenant_id: account.tenantId, inbound_api_key: 'jck_wrong' });
    await assert.rejects(runAction(sendInboundEvent, wrongKey, { event_name: 'lead.captured', payload: { email: 'x@example.com' }, idempotency_key: undefined }), /Junction CRM answered 401 INBOUND_UNAUTHORIZED: /);
  });
});

describe('custom_api_call', () => {
  it('calls a relative route with the connection’s token', async () => {
    const contact = await runAction(createContact, auth, { ...noContact, email: 'custom@example.com' });
    const response = await runAction(customApiCall, auth, {
      url: { url: `/contacts/${contact.id}` },
      method: 'GET' as never,
      headers: {},
      queryParams: {},
      body_type: 'none',
      body: {},
      response_is_binary: false,
      failsafe: false,
      timeout: 10,
      followRedirects: false,
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.email, 'custom@example.com');
  });

  it('its URL field defaults to the CRM’s /api', async () => {
    const props = await customApiCall.props.url.props({ auth } as never, undefined as never);
    assert.equal((props['url'] as { defaultValue?: string }).defaultValue, `${crm.baseUrl}/api`);
  });
});
