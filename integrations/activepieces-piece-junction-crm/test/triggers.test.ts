import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractPieceFromModule, type TriggerPayload } from '@activepieces/shared';
import { junctionCrm } from '../src/index';
import { junctionCrmAuth } from '../src/lib/auth';
import { SAMPLES } from '../src/lib/samples';
import { crmEvent, dealStageChanged, invoicePaid, newContact, updatedContact } from '../src/lib/triggers/triggers';
import { SUBSCRIPTION_STORE_KEY, type StoredSubscription } from '../src/lib/triggers/subscription';
import { asWebhookTrigger, connection, triggerHarness, type AuthValue } from './support/context';
import { PACKAGE_DIR, api, eventually, newAccount, startCrm, type Account, type Crm } from './support/crm';
import { Receiver, type ReceivedRequest } from './support/receiver';

let crm: Crm;
let account: Account;
let auth: AuthValue;
const receiver = new Receiver();

before(async () => {
  [crm] = await Promise.all([startCrm(), receiver.start()]);
  account = await newAccount(crm);
  auth = connection({ base_url: crm.baseUrl, api_token: account.apiToken });
});

after(async () => {
  await receiver.stop();
  await crm?.stop();
});

/** The delivery as Activepieces passes it to `run`: its exact bytes (as a string or a Buffer) and headers. */
function payloadOf(request: ReceivedRequest, rawBody: 'string' | 'buffer' = 'string'): TriggerPayload {
  return {
    body: request.body,
    rawBody: rawBody === 'string' ? request.rawBody.toString('utf8') : request.rawBody,
    headers: request.headers,
    queryParams: {},
  };
}

/** Signs `body` the Standard Webhooks way with a chosen timestamp, as the CRM would have. */
function signed(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

async function subscriptionsAt(url: string): Promise<any[]> {
  const response = await api(crm, 'GET', `/webhooks/subscriptions?target_url=${encodeURIComponent(url)}`, { token: account.apiToken });
  assert.equal(response.status, 200);
  return response.body.data;
}

describe('the piece', () => {
  it('is named as users see it, with the five webhook triggers, the polling one and the ten actions', () => {
    const metadata = junctionCrm.metadata();
    assert.equal(metadata.displayName, 'Junction CRM');
    assert.deepEqual(Object.keys(junctionCrm.triggers()).sort(), ['crm_event', 'crm_event_polling', 'deal_stage_changed', 'invoice_paid', 'new_contact', 'updated_contact']);
    for (const trigger of Object.values(junctionCrm.triggers())) assert.equal(trigger.type, trigger.name === 'crm_event_polling' ? 'POLLING' : 'WEBHOOK');
    assert.deepEqual(
      Object.keys(junctionCrm.actions()).sort(),
      ['create_contact', 'create_deal', 'create_invoice', 'custom_api_call', 'find_contact', 'mark_invoice_paid', 'send_inbound_event', 'update_contact', 'update_deal', 'upsert_contact'],
    );
    assert.deepEqual(Object.keys(junctionCrmAuth.props), ['base_url', 'api_token', 'tenant_id', 'inbound_api_key']);
    assert.equal(metadata.minimumSupportedRelease, '0.82.0');
  });

  it('is what package.json publishes: CommonJS main and types, and the engine finds junctionCrm in it', () => {
    const manifest = require(path.join(PACKAGE_DIR, 'package.json')) as { name: string; version: string; main: string; types: string };
    assert.ok(existsSync(path.join(PACKAGE_DIR, manifest.types)), `${manifest.types} is built`);
    const published = require(path.join(PACKAGE_DIR, manifest.main)) as Record<string, unknown>;
    // The function Activepieces uses to pick the piece out of an installed package.
    const piece = extractPieceFromModule<typeof junctionCrm>({ module: published, pieceName: manifest.name, pieceVersion: manifest.version });
    assert.equal(piece, published['junctionCrm']);
    assert.equal(piece.metadata().displayName, 'Junction CRM');
  });

  it("keeps each trigger's sample data equal to the live catalog's example", async () => {
    const { body } = await api(crm, 'GET', '/webhooks/event-types', { token: account.apiToken });
    const examples = new Map<string, unknown>(body.data.map((type: { name: string; example: unknown }) => [type.name, type.example]));
    for (const [name, sample] of Object.entries(SAMPLES)) assert.deepEqual(sample, examples.get(name), `sample of ${name}`);
    assert.deepEqual(newContact.sampleData, examples.get('contact.created'));
    assert.deepEqual(updatedContact.sampleData, examples.get('contact.updated'));
    assert.deepEqual(dealStageChanged.sampleData, examples.get('deal.stage_changed'));
    assert.deepEqual(invoicePaid.sampleData, examples.get('invoice.paid'));
  });
});

describe('validate (the engine passes the props themselves)', () => {
  const server = { apiUrl: 'http://127.0.0.1:1/api/', publicUrl: 'http://127.0.0.1:1/' };
  const props = () => ({ base_url: crm.baseUrl, api_token: account.apiToken, tenant_id: undefined, inbound_api_key: undefined });

  it('accepts a working connection, with the CRM URL written with /api or a trailing slash too', async () => {
    assert.deepEqual(await junctionCrmAuth.validate!({ auth: props(), server }), { valid: true });
    assert.deepEqual(await junctionCrmAuth.validate!({ auth: { ...props(), base_url: `${crm.baseUrl}/api/` }, server }), { valid: true });
    assert.deepEqual(await junctionCrmAuth.validate!({ auth: { ...props(), tenant_id: account.tenantId }, server }), { valid: true });
  });

  it('refuses a bad token with a message a person can act on', async () => {
    const result = await junctionCrmAuth.validate!({ auth: { ...props(), api_token: 'jct_not-a-real-token' }, server });
    assert.equal(result.valid, false);
    assert.match((result as { error: string }).error, /INVALID_TOKEN/);
    assert.match((result as { error: string }).error, /refused the API token \(401 INVALID_TOKEN\).*POST \/api\/auth\/tokens/);
  });

  it('refuses an unreachable URL, a non-URL and a tenant id that is not the token’s', async () => {
    const unreachable = await junctionCrmAuth.validate!({ auth: { ...props(), base_url: 'http://127.0.0.1:9' }, server });
    assert.match((unreachable as { error: string }).error, /Could not reach Junction CRM at http:\/\/127\.0\.0\.1:9/);
    const notUrl = await junctionCrmAuth.validate!({ auth: { ...props(), base_url: 'crm dot example' }, server });
    assert.match((notUrl as { error: string }).error, /is not a URL/);
    const otherTenant = await junctionCrmAuth.validate!({ auth: { ...props(), tenant_id: '123e4567-e89b-12d3-a456-426614174000' }, server });
    assert.match((otherTenant as { error: string }).error, /is not the tenant of this API token/);
  });
});

describe('crm_event', () => {
  it("lists the CRM's catalog and the patterns in its Event dropdown", async () => {
    const state = await crmEvent.props.event.options({ auth }, { server: { apiUrl: '', publicUrl: '', token: '' }, project: { id: 'p', externalId: async () => undefined }, flows: { list: async () => ({ data: [], next: null, previous: null }), current: { id: 'f', version: { id: 'v' } } }, connections: { get: async () => null } });
    const values = state.options.map((option) => option.value);
    for (const name of ['contact.created', 'deal.stage_changed', 'invoice.paid', 'contact.*', '*']) assert.ok(values.includes(name), `${name} offered`);
    assert.ok(!values.includes('webhook.test'), 'webhook.test is not subscribable');
    const none = await crmEvent.props.event.options({}, undefined as never);
    assert.equal(none.disabled, true);
  });

  it('on contact.*: runs for contact.created and contact.updated, not for a webhook.test, and unsubscribes', async () => {
    const trigger = asWebhookTrigger(crmEvent);
    const url = receiver.url('/flows/crm-event');
    const flow = triggerHarness<typeof crmEvent.props>({ auth, propsValue: { event: 'contact.*' }, webhookUrl: url });
    await trigger.onEnable(flow.hookContext());
    const [subscription] = await subscriptionsAt(url);
    assert.equal(subscription.event_name, 'contact.*');

    const created = await api(crm, 'POST', '/contacts', { token: account.apiToken, body: { first_name: 'Pat', email: 'pat@example.com' } });
    await api(crm, 'PATCH', `/contacts/${created.body.id}`, { token: account.apiToken, body: { company: 'Initech' } });
    const createdDelivery = await receiver.waitFor('/flows/crm-event', (request) => (request.body as any).event_name === 'contact.created');
    const updatedDelivery = await receiver.waitFor('/flows/crm-event', (request) => (request.body as any).event_name === 'contact.updated');
    const [fromCreated] = (await trigger.run(flow.runContext(payloadOf(createdDelivery)))) as any[];
    assert.equal(fromCreated.contact_id, created.body.id);
    const [fromUpdated] = (await trigger.run(flow.runContext(payloadOf(updatedDelivery, 'buffer')))) as any[];
    assert.deepEqual(fromUpdated.changes, { company: { from: null, to: 'Initech' } });

    const test = await api(crm, 'POST', `/webhooks/subscriptions/${subscription.id}/test`, { token: account.apiToken });
    assert.equal(test.status, 200);
    const ping = await receiver.waitFor('/flows/crm-event', (request) => (request.body as any).event_name === 'webhook.test');
    assert.deepEqual(await trigger.run(flow.runContext(payloadOf(ping))), []);

    // A test of a real event name sends the catalog example marked test: true, and that one does run the flow.
    const exampleTest = await api(crm, 'POST', `/webhooks/subscriptions/${subscription.id}/test`, { token: account.apiToken, body: { event_name: 'contact.created' } });
    assert.equal(exampleTest.status, 200, JSON.stringify(exampleTest.body));
    const example = await receiver.waitFor('/flows/crm-event', (request) => (request.body as any).test === true);
    const [fromExample] = (await trigger.run(flow.runContext(payloadOf(example)))) as any[];
    assert.equal(fromExample.event_name, 'contact.created');
    assert.equal(fromExample.test, true);
    assert.equal(fromExample.email, 'john@example.com');

    await trigger.onDisable(flow.hookContext());
    assert.deepEqual(await subscriptionsAt(url), []);
  });
});

describe('new_contact', () => {
  const trigger = asWebhookTrigger(newContact);
  const url = () => receiver.url('/flows/new-contact');
  let flow: ReturnType<typeof triggerHarness<typeof newContact.props>>;
  let delivery: ReceivedRequest;
  let contactId: string;

  it('onEnable subscribes the webhook URL to contact.created and keeps id and secret in the store', async () => {
    flow = triggerHarness<typeof newContact.props>({ auth, propsValue: {}, webhookUrl: url() });
    await trigger.onEnable(flow.hookContext());
    const [subscription, ...twins] = await subscriptionsAt(url());
    assert.equal(twins.length, 0);
    assert.equal(subscription.event_name, 'contact.created');
    assert.equal(subscription.enabled, true);
    const stored = (await flow.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY))!;
    assert.equal(stored.id, subscription.id);
    const secret = await api(crm, 'GET', `/webhooks/subscriptions/${subscription.id}/secret`, { token: account.apiToken });
    assert.equal(stored.secret, secret.body.secret);
  });

  it('enabling the flow again makes no twin', async () => {
    const before = (await flow.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY))!;
    await trigger.onEnable(flow.hookContext());
    const subscriptions = await subscriptionsAt(url());
    assert.equal(subscriptions.length, 1);
    assert.equal(subscriptions[0].id, before.id);
  });

  it('a contact created in the CRM reaches the listener, and run turns its exact bytes into the flat payload', async () => {
    const created = await api(crm, 'POST', '/contacts', { token: account.apiToken, body: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', company: 'Analytical' } });
    assert.equal(created.status, 201);
    contactId = created.body.id;
    delivery = await receiver.waitFor('/flows/new-contact', (request) => (request.body as any).contact_id === contactId);
    assert.ok(delivery.headers['webhook-signature'].startsWith('v1,'));

    for (const form of ['string', 'buffer'] as const) {
      const output = (await trigger.run(flow.runContext(payloadOf(delivery, form)))) as any[];
      assert.equal(output.length, 1, `rawBody as a ${form}`);
      assert.equal(output[0].event_name, 'contact.created');
      assert.equal(output[0].contact_id, contactId);
      assert.equal(output[0].email, 'ada@example.com');
      assert.equal(output[0].company, 'Analytical');
      assert.equal(output[0].event_id, delivery.headers['webhook-id']);
    }
    // A Buffer that went through JSON on its way to the engine, and no raw body at all, still verify.
    const viaJson = JSON.parse(JSON.stringify({ rawBody: delivery.rawBody })).rawBody;
    assert.equal(((await trigger.run(flow.runContext({ ...payloadOf(delivery), rawBody: viaJson }))) as any[]).length, 1);
    assert.equal(((await trigger.run(flow.runContext({ ...payloadOf(delivery), rawBody: undefined }))) as any[]).length, 1);
  });

  it('a tampered body, a changed timestamp or a forged signature gives []', async () => {
    const tampered = delivery.rawBody.toString('utf8').replace('ada@example.com', 'eve@example.com');
    assert.deepEqual(await trigger.run(flow.runContext({ ...payloadOf(delivery), rawBody: tampered, body: JSON.parse(tampered) })), []);
    const shifted = { ...delivery.headers, 'webhook-timestamp': String(Number(delivery.headers['webhook-timestamp']) + 1) };
    assert.deepEqual(await trigger.run(flow.runContext({ ...payloadOf(delivery), headers: shifted })), []);
    const forged = signed(`whsec_${Buffer.from('not the secret, not at all!!').toString('base64')}`, delivery.headers['webhook-id'], Math.floor(Date.now() / 1000), delivery.rawBody.toString('utf8'));
    assert.deepEqual(await trigger.run(flow.runContext({ ...payloadOf(delivery), headers: forged })), []);
    const unsigned = { ...delivery.headers };
    delete unsigned['webhook-signature'];
    assert.deepEqual(await trigger.run(flow.runContext({ ...payloadOf(delivery), headers: unsigned })), []);
  });

  it('a replay older than 5 minutes gives [], even correctly signed; one inside the tolerance passes', async () => {
    const { secret } = (await flow.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY))!;
    const body = delivery.rawBody.toString('utf8');
    const now = Math.floor(Date.now() / 1000);
    const stale = signed(secret, delivery.headers['webhook-id'], now - 301, body);
    assert.deepEqual(await trigger.run(flow.runContext({ ...payloadOf(delivery), headers: stale })), []);
    const future = signed(secret, delivery.headers['webhook-id'], now + 301, body);
    assert.deepEqual(await trigger.run(flow.runContext({ ...payloadOf(delivery), headers: future })), []);
    const recent = signed(secret, delivery.headers['webhook-id'], now - 240, body);
    assert.equal(((await trigger.run(flow.runContext({ ...payloadOf(delivery), headers: recent }))) as any[]).length, 1);
  });

  it('during a secret rotation the CRM signs twice and the stored (old) secret still verifies', async () => {
    const { id } = (await flow.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY))!;
    const rotated = await api(crm, 'POST', `/webhooks/subscriptions/${id}/rotate-secret`, { token: account.apiToken });
    assert.equal(rotated.status, 200);
    const created = await api(crm, 'POST', '/contacts', { token: account.apiToken, body: { email: 'grace@example.com' } });
    const next = await receiver.waitFor('/flows/new-contact', (request) => (request.body as any).contact_id === created.body.id);
    assert.equal(next.headers['webhook-signature'].split(' ').length, 2);
    const [event] = (await trigger.run(flow.runContext(payloadOf(next)))) as any[];
    assert.equal(event.email, 'grace@example.com');
  });

  it('test returns the latest real contact.created event', async () => {
    const [latest] = (await trigger.test(flow.runContext({ body: undefined, headers: {}, queryParams: {} }))) as any[];
    assert.equal(latest.event_name, 'contact.created');
    assert.equal(latest.email, 'grace@example.com');
  });

  it('onDisable deletes the subscription and forgets it', async () => {
    const { id } = (await flow.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY))!;
    await trigger.onDisable(flow.hookContext());
    assert.equal((await api(crm, 'GET', `/webhooks/subscriptions/${id}`, { token: account.apiToken })).status, 404);
    assert.equal(await flow.store.get(SUBSCRIPTION_STORE_KEY), null);
    // Disabling again (the engine may retry) is harmless.
    await trigger.onDisable(flow.hookContext());
  });

  it('without its subscription in the store, run accepts nothing', async () => {
    assert.deepEqual(await trigger.run(flow.runContext(payloadOf(delivery))), []);
  });
});

describe('updated_contact', () => {
  it('runs with the contact and its changes', async () => {
    const trigger = asWebhookTrigger(updatedContact);
    const url = receiver.url('/flows/updated-contact');
    const flow = triggerHarness<typeof updatedContact.props>({ auth, propsValue: {}, webhookUrl: url });
    await trigger.onEnable(flow.hookContext());
    assert.equal((await subscriptionsAt(url))[0].event_name, 'contact.updated');
    const created = await api(crm, 'POST', '/contacts', { token: account.apiToken, body: { email: 'lin@example.com', phone: '+1 555 0100' } });
    await api(crm, 'PATCH', `/contacts/${created.body.id}`, { token: account.apiToken, body: { phone: '+1 555 0199' } });
    const delivery = await receiver.waitFor('/flows/updated-contact', (request) => (request.body as any).contact_id === created.body.id);
    const [event] = (await trigger.run(flow.runContext(payloadOf(delivery, 'buffer')))) as any[];
    assert.equal(event.phone, '+1 555 0199');
    assert.deepEqual(event.changes, { phone: { from: '+1 555 0100', to: '+1 555 0199' } });
    await trigger.onDisable(flow.hookContext());
    assert.deepEqual(await subscriptionsAt(url), []);
  });
});

describe('deal_stage_changed', () => {
  async function deliveriesOf(subscriptionId: string): Promise<any[]> {
    const response = await api(crm, 'GET', `/webhooks/deliveries?subscription_id=${subscriptionId}&limit=100`, { token: account.apiToken });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.data;
  }

  it('with "only to stage" won: the subscription filters on the stage, a move to lost makes no delivery, the move to won comes out', async () => {
    const trigger = asWebhookTrigger(dealStageChanged);
    const url = receiver.url('/flows/deal-won');
    const flow = triggerHarness<typeof dealStageChanged.props>({ auth, propsValue: { stage: 'won' }, webhookUrl: url });
    await trigger.onEnable(flow.hookContext());
    const [subscription, ...twins] = await subscriptionsAt(url);
    assert.equal(twins.length, 0);
    assert.equal(subscription.event_name, 'deal.stage_changed');
    assert.deepEqual(subscription.filter, { stage: 'won' });
    assert.deepEqual((await flow.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY))!.filter, { stage: 'won' });

    const lostDeal = await api(crm, 'POST', '/deals', { token: account.apiToken, body: { title: 'Globex pilot', value: 900, currency: 'EUR' } });
    assert.equal(lostDeal.status, 201);
    assert.equal((await api(crm, 'PATCH', `/deals/${lostDeal.body.id}`, { token: account.apiToken, body: { stage: 'lost' } })).status, 200);
    const deal = await api(crm, 'POST', '/deals', { token: account.apiToken, body: { title: 'Initech renewal', value: 5000, currency: 'EUR' } });
    assert.equal(deal.status, 201);
    await api(crm, 'PATCH', `/deals/${deal.body.id}`, { token: account.apiToken, body: { stage: 'qualified' } });
    await api(crm, 'PATCH', `/deals/${deal.body.id}`, { token: account.apiToken, body: { stage: 'won' } });
    const toWon = await receiver.waitFor('/flows/deal-won', (request) => (request.body as any).stage === 'won');
    const [event] = (await trigger.run(flow.runContext(payloadOf(toWon)))) as any[];
    assert.equal(event.deal_id, deal.body.id);
    assert.equal(event.stage, 'won');
    assert.equal(event.previous_stage, 'qualified');
    assert.equal(event.value, '5000.00');
    // Delivery rows are written with the event (outbox): once the move to won arrived, the earlier moves were decided.
    const deliveries = await deliveriesOf(subscription.id);
    assert.deepEqual(deliveries.map((delivery) => delivery.event_id), [toWon.headers['webhook-id']], 'only the move to won was delivered');
    assert.deepEqual(receiver.on('/flows/deal-won').map((request) => (request.body as any).stage), ['won']);

    const [sample] = (await trigger.test(flow.runContext({ body: undefined, headers: {}, queryParams: {} }))) as any[];
    assert.equal(sample.deal_id, deal.body.id, 'test finds the latest real move to won');
    assert.equal(sample.stage, 'won');

    // The piece-side check stays as a safety net (a subscription made before the piece set the filter).
    const toLost = { ...JSON.parse(toWon.rawBody.toString('utf8')), stage: 'lost' };
    const secret = (await flow.store.get<StoredSubscription>(SUBSCRIPTION_STORE_KEY))!.secret;
    const body = JSON.stringify(toLost);
    const forgedLost = { body: toLost, rawBody: body, headers: signed(secret, toLost.event_id, Math.floor(Date.now() / 1000), body), queryParams: {} };
    assert.deepEqual(await trigger.run(flow.runContext(forgedLost)), []);

    await trigger.onDisable(flow.hookContext());
    assert.deepEqual(await subscriptionsAt(url), []);
  });

  it('enabling again with another stage, or none, updates the same subscription’s filter', async () => {
    const trigger = asWebhookTrigger(dealStageChanged);
    const url = receiver.url('/flows/deal-stage');
    const won = triggerHarness<typeof dealStageChanged.props>({ auth, propsValue: { stage: 'won' }, webhookUrl: url });
    await trigger.onEnable(won.hookContext());
    const [first] = await subscriptionsAt(url);
    assert.deepEqual(first.filter, { stage: 'won' });

    const lost = triggerHarness<typeof dealStageChanged.props>({ auth, propsValue: { stage: 'lost' }, webhookUrl: url });
    await trigger.onEnable(lost.hookContext());
    const [second, ...twins] = await subscriptionsAt(url);
    assert.equal(twins.length, 0);
    assert.equal(second.id, first.id, 're-registration, no twin');
    assert.deepEqual(second.filter, { stage: 'lost' });

    const every = triggerHarness<typeof dealStageChanged.props>({ auth, propsValue: { stage: undefined }, webhookUrl: url });
    await trigger.onEnable(every.hookContext());
    const [third] = await subscriptionsAt(url);
    assert.equal(third.id, first.id);
    assert.equal(third.filter, null, 'no stage: every stage change is delivered');

    const deal = await api(crm, 'POST', '/deals', { token: account.apiToken, body: { title: 'Every stage' } });
    await api(crm, 'PATCH', `/deals/${deal.body.id}`, { token: account.apiToken, body: { stage: 'proposal' } });
    const delivery = await receiver.waitFor('/flows/deal-stage', (request) => (request.body as any).deal_id === deal.body.id);
    const [event] = (await trigger.run(every.runContext(payloadOf(delivery)))) as any[];
    assert.equal(event.stage, 'proposal');

    await trigger.onDisable(every.hookContext());
    assert.deepEqual(await subscriptionsAt(url), []);
  });
});

describe('invoice_paid', () => {
  it('an invoice marked paid in the CRM comes out of run; test without any real event gives the catalog example', async () => {
    const trigger = asWebhookTrigger(invoicePaid);
    const url = receiver.url('/flows/invoice-paid');
    const flow = triggerHarness<typeof invoicePaid.props>({ auth, propsValue: {}, webhookUrl: url });

    const [example] = (await trigger.test(flow.runContext({ body: undefined, headers: {}, queryParams: {} }))) as any[];
    assert.deepEqual(example, SAMPLES['invoice.paid']);

    await trigger.onEnable(flow.hookContext());
    const invoice = await api(crm, 'POST', '/invoices', { token: account.apiToken, body: { number: 'INV-AP-1', amount: '49.90', currency: 'EUR' } });
    assert.equal(invoice.status, 201);
    await api(crm, 'PATCH', `/invoices/${invoice.body.id}`, { token: account.apiToken, body: { status: 'paid' } });
    const delivery = await receiver.waitFor('/flows/invoice-paid', (request) => (request.body as any).invoice_id === invoice.body.id);
    const [event] = (await trigger.run(flow.runContext(payloadOf(delivery)))) as any[];
    assert.equal(event.status, 'paid');
    assert.equal(event.amount, '49.90');
    assert.ok(event.paid_at);

    await trigger.onDisable(flow.hookContext());
    assert.deepEqual(await subscriptionsAt(url), []);
  });
});

describe('a member’s token', () => {
  it('cannot subscribe, and onEnable says an admin’s token is needed', async () => {
    const email = `member-${Date.now()}@example.com`;
    const user = await api(crm, 'POST', '/users', { token: account.sessionToken, body: { email, password: 'correct horse battery staple', name: 'Member', role: 'member' } });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const login = await api(crm, 'POST', '/auth/login', { body: { email, password: 'correct horse battery staple' } });
    const memberAuth = connection({ base_url: crm.baseUrl, api_token: login.body.token });
    const flow = triggerHarness<typeof newContact.props>({ auth: memberAuth, propsValue: {}, webhookUrl: receiver.url('/flows/member') });
    await assert.rejects(asWebhookTrigger(newContact).onEnable(flow.hookContext()), /Junction CRM answered 403 FORBIDDEN_ROLE: .*needs the API token of an admin/);
    await eventually(async () => ((await subscriptionsAt(receiver.url('/flows/member'))).length === 0 ? true : undefined), 'no subscription');
  });
});
