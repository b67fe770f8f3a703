import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, createContacts } from '../support/app-process.js';
import { crmGet, newTenant, startCrm, type Crm, type Tenant } from './support/crm.js';
import {
  actionNode,
  actionsWorkflow,
  connect,
  EXAMPLES_DIR,
  expectReachedThirdParty,
  load,
  MISSING_ID,
  n8nRestLoadOptions,
  standInForStripe,
  THIRD_PARTY,
  POLL_TRIGGER,
  TRIGGER,
  webhookNode,
} from './support/builders.js';
import { isInstalled, n8nCall, n8nVersion, packedPackage, removePackedPackage, startN8n, type N8nProcess } from './support/n8n.js';
import {
  activate,
  createCredential,
  createWorkflow,
  deactivate,
  executions,
  finishedExecutions,
  nodeError,
  nodeOutput,
  ranNodes,
  waitFor,
  type Workflow,
} from './support/workflows.js';
import { sleep } from '../support/helpers.js';

/**
 * The n8n community package inside a real n8n, on every version listed in N8N_E2E_VERSIONS (default: the
 * two the README states as tested). Each version gets its own n8n process and user folder; the CRM runs
 * once for all of them. Install n8n first: integrations/n8n-nodes-junction-crm/e2e/install-n8n.sh.
 */

const VERSIONS = (process.env.N8N_E2E_VERSIONS ?? '2.41.1,1.123.50').split(',').map((version) => version.trim()).filter(Boolean);

let crm: Crm;

beforeAll(async () => {
  packedPackage(); // npm pack (which builds) before anything starts
  crm = await startCrm();
}, 300_000);

afterAll(async () => {
  await crm?.stop();
  removePackedPackage();
});

/** Signs a body the way the CRM does (Standard Webhooks). */
function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

async function subscriptionsFor(tenant: Tenant, targetUrl: string): Promise<any[]> {
  const response = await crmGet(crm, tenant, `/webhooks/subscriptions?target_url=${encodeURIComponent(targetUrl)}&limit=200`);
  expect(response.status).toBe(200);
  return response.body.data;
}

/** The subscriptions for `targetUrl` once there is one: n8n 2.x calls the trigger's create() after it has registered the webhook. */
async function subscribed(tenant: Tenant, targetUrl: string): Promise<any[]> {
  return waitFor(`a subscription for ${targetUrl}`, async () => {
    const subscriptions = await subscriptionsFor(tenant, targetUrl);
    return subscriptions.length > 0 ? subscriptions : undefined;
  });
}

/** No subscription left for `targetUrl`: n8n 2.x calls the trigger's delete() after the API has answered. */
async function unsubscribed(tenant: Tenant, targetUrl: string): Promise<void> {
  await waitFor(`no subscription for ${targetUrl}`, async () => (await subscriptionsFor(tenant, targetUrl)).length === 0);
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(15_000) });
  return { status: response.status, text: await response.text() };
}

describe.each(VERSIONS)('n8n %s', (version) => {
  const v = n8nVersion(version);
  let n8n: N8nProcess;
  let triggerTenant: Tenant;
  let actionTenant: Tenant;
  const credentials: Record<string, string> = {};

  beforeAll(async () => {
    if (!isInstalled(v)) throw new Error(`n8n ${version} is not installed: run integrations/n8n-nodes-junction-crm/e2e/install-n8n.sh ${version}`);
    [n8n, triggerTenant, actionTenant] = await Promise.all([
      startN8n(v, { echo: process.env.N8N_E2E_ECHO === '1' }),
      newTenant(crm, `trigger-${version}`),
      newTenant(crm, `actions-${version}`),
    ]);
    for (const [name, tenant] of [
      ['trigger', triggerTenant],
      ['actions', actionTenant],
    ] as const) {
      credentials[name] = await createCredential(n8n, `Junction CRM (${name})`, 'junctionCrmApi', {
        baseUrl: crm.baseUrl,
        apiToken: tenant.apiToken,
        tenantId: tenant.tenantId,
        inboundApiKey: tenant.inboundApiKey,
      });
    }
  }, 240_000);

  afterAll(async () => {
    await n8n?.stop();
  }, 60_000);

  describe('the trigger', () => {
    const webhookId = randomUUID();
    let workflowId: string;
    let webhookUrl: string;

    beforeAll(async () => {
      webhookUrl = `${n8n.baseUrl}/webhook/${webhookId}/webhook`;
      workflowId = await createWorkflow(n8n, {
        name: 'e2e trigger',
        nodes: [
          {
            name: 'Junction CRM Trigger',
            type: TRIGGER,
            typeVersion: 1,
            position: [0, 0],
            webhookId,
            parameters: { event: 'contact.created', options: {} },
            credentials: { junctionCrmApi: { id: credentials.trigger, name: 'Junction CRM (trigger)' } },
          },
        ],
        connections: {},
      });
    });

    it('activating the workflow subscribes n8n’s webhook URL in the CRM', async () => {
      await activate(n8n, workflowId, webhookUrl);
      const subscriptions = await subscribed(triggerTenant, webhookUrl);
      expect(subscriptions).toHaveLength(1);
      expect(subscriptions[0]).toMatchObject({ event_name: 'contact.created', target_url: webhookUrl, enabled: true });
      expect(subscriptions[0].description).toContain('e2e trigger');
      // The subscription's id and secret are kept in the node's static data.
      const stored = await n8nCall(n8n, 'GET', `/api/v1/workflows/${workflowId}`);
      expect(JSON.stringify(stored.body.staticData ?? {})).toContain(subscriptions[0].id);
    });

    it('a contact created in the CRM runs the workflow with the CRM’s payload as its item', async () => {
      const email = `ada-${randomBytes(3).toString('hex')}@example.com`;
      const created = await callApi(crm.app.url, 'POST', '/contacts', { token: triggerTenant.token, body: { first_name: 'Ada', last_name: 'Lovelace', email } });
      expect(created.status).toBe(201);
      const [execution] = await finishedExecutions(n8n, workflowId, 1);
      expect(execution.status).toBe('success');
      const items = nodeOutput(execution, 'Junction CRM Trigger');
      expect(items).toHaveLength(1);
      expect(items![0]).toMatchObject({ event_name: 'contact.created', contact_id: created.body.id, email, first_name: 'Ada', tenant_id: triggerTenant.tenantId });
      expect(items![0].headers).toBeUndefined();
    });

    it('a forged or stale delivery gets 401 and starts nothing; a correctly signed one starts the workflow', async () => {
      const [subscription] = await subscriptionsFor(triggerTenant, webhookUrl);
      const secret = (await crmGet(crm, triggerTenant, `/webhooks/subscriptions/${subscription.id}/secret`)).body.secret as string;
      const body = JSON.stringify({ event_id: randomUUID(), event_name: 'contact.created', email: 'mallory@example.com' });
      const id = randomUUID();
      const now = Math.floor(Date.now() / 1000);
      const headers = (timestamp: number, signature: string) => ({ 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature });
      const forgedSecret = `whsec_${randomBytes(32).toString('base64')}`;

      const forged = await post(webhookUrl, body, headers(now, standardSignature(forgedSecret, id, now, body)));
      expect(forged.status).toBe(401);
      const unsigned = await post(webhookUrl, body);
      expect(unsigned.status).toBe(401);
      const stale = await post(webhookUrl, body, headers(now - 600, standardSignature(secret, id, now - 600, body)));
      expect(stale.status).toBe(401);
      const tampered = await post(webhookUrl, body.replace('mallory', 'alice'), headers(now, standardSignature(secret, id, now, body)));
      expect(tampered.status).toBe(401);

      const genuine = await post(webhookUrl, body, headers(now, standardSignature(secret, id, now, body)));
      expect(genuine.status).toBe(200);
      const all = await finishedExecutions(n8n, workflowId, 2);
      expect(nodeOutput(all[1], 'Junction CRM Trigger')![0]).toMatchObject({ email: 'mallory@example.com' });
      await sleep(1_500);
      expect(await executions(n8n, workflowId)).toHaveLength(2);
    });

    it('deactivating deletes the subscription', async () => {
      await deactivate(n8n, workflowId, webhookUrl);
      await unsubscribed(triggerTenant, webhookUrl);
    });

    it('re-activation makes no twin: a subscription left for this URL is taken over, and deliveries verify with its secret', async () => {
      const leftover = await callApi(crm.app.url, 'POST', '/webhooks/subscriptions', {
        token: triggerTenant.token,
        body: { event_name: 'contact.created', target_url: webhookUrl },
      });
      expect(leftover.status).toBe(201);
      await activate(n8n, workflowId, webhookUrl);
      const subscriptions = await subscribed(triggerTenant, webhookUrl);
      expect(subscriptions.map((subscription) => subscription.id)).toEqual([leftover.body.id]);

      const email = `grace-${randomBytes(3).toString('hex')}@example.com`;
      await callApi(crm.app.url, 'POST', '/contacts', { token: triggerTenant.token, body: { first_name: 'Grace', email } });
      const all = await finishedExecutions(n8n, workflowId, 3);
      expect(all[2].status).toBe('success');
      expect(nodeOutput(all[2], 'Junction CRM Trigger')![0]).toMatchObject({ email });

      await deactivate(n8n, workflowId, webhookUrl);
      await activate(n8n, workflowId, webhookUrl);
      expect(await subscribed(triggerTenant, webhookUrl)).toHaveLength(1);
      await deactivate(n8n, workflowId, webhookUrl);
      await unsubscribed(triggerTenant, webhookUrl);
    });

    it('adds the delivery headers under $json.headers when asked to', async () => {
      const id = randomUUID();
      const url = `${n8n.baseUrl}/webhook/${id}/webhook`;
      const withHeaders = await createWorkflow(n8n, {
        name: 'e2e trigger with headers',
        nodes: [
          {
            name: 'Deals',
            type: TRIGGER,
            typeVersion: 1,
            position: [0, 0],
            webhookId: id,
            parameters: { event: 'deal.*', options: { includeHeaders: true } },
            credentials: { junctionCrmApi: { id: credentials.trigger, name: 'Junction CRM (trigger)' } },
          },
        ],
        connections: {},
      });
      await activate(n8n, withHeaders, url);
      expect((await subscribed(triggerTenant, url))[0]).toMatchObject({ event_name: 'deal.*' });
      const deal = await callApi(crm.app.url, 'POST', '/deals', { token: triggerTenant.token, body: { title: 'Headers', value: 10 } });
      const [execution] = await finishedExecutions(n8n, withHeaders, 1);
      await deactivate(n8n, withHeaders, url);
      const item = nodeOutput(execution, 'Deals')![0];
      expect(item).toMatchObject({ event_name: 'deal.created', deal_id: deal.body.id, value: '10.00' });
      expect(item.headers).toMatchObject({ 'webhook-id': item.event_id, 'x-webhook-event': 'deal.created' });
      expect(item.headers['webhook-signature']).toMatch(/^v1,/);
      await unsubscribed(triggerTenant, url);
    });

    it('keeps verifying after the secret is rotated in the CRM and the old one has stopped signing', async () => {
      const id = randomUUID();
      const url = `${n8n.baseUrl}/webhook/${id}/webhook`;
      const rotated = await createWorkflow(n8n, {
        name: 'e2e trigger rotation',
        nodes: [
          {
            name: 'Invoices',
            type: TRIGGER,
            typeVersion: 1,
            position: [0, 0],
            webhookId: id,
            parameters: { event: 'invoice.created', options: {} },
            credentials: { junctionCrmApi: { id: credentials.trigger, name: 'Junction CRM (trigger)' } },
          },
        ],
        connections: {},
      });
      await activate(n8n, rotated, url);
      const [subscription] = await subscribed(triggerTenant, url);
      const rotation = await callApi(crm.app.url, 'POST', `/webhooks/subscriptions/${subscription.id}/rotate-secret`, { token: triggerTenant.token });
      expect(rotation.status).toBe(200);
      // As if the 24 hours were over: the CRM now signs with the new secret only, which the trigger has not seen.
      await crm.query('UPDATE webhook_subscriptions SET previous_secret_expires_at = now() - interval \'1 second\' WHERE id = $1', [subscription.id]);
      const invoice = await callApi(crm.app.url, 'POST', '/invoices', { token: triggerTenant.token, body: { number: `ROT-${id.slice(0, 8)}`, amount: '5.00' } });
      expect(invoice.status).toBe(201);
      const [execution] = await finishedExecutions(n8n, rotated, 1);
      await deactivate(n8n, rotated, url);
      expect(execution.status).toBe('success');
      expect(nodeOutput(execution, 'Invoices')![0]).toMatchObject({ event_name: 'invoice.created', invoice_id: invoice.body.id });
    });

    it('offers every catalog event and the patterns as options (loadOptions against the CRM)', async () => {
      const response = await n8nRestLoadOptions(n8n, credentials.trigger);
      expect(response).toEqual(expect.arrayContaining(['contact.created', 'deal.stage_changed', 'invoice.paid', 'contact.*', 'deal.*', 'invoice.*', '*']));
    });
  });

  describe('the actions', () => {
    it('run every operation against the CRM, whose API shows their effect', async () => {
      const run = randomBytes(4).toString('hex');
      // More contacts than one page (200) holds, so Return All must follow the cursor.
      await createContacts(crm.app.url, actionTenant.token, 205, { prefix: `pageco${run}` });
      const workflow = actionsWorkflow(run, credentials.actions);
      const workflowId = await createWorkflow(n8n, workflow);
      const startUrl = `${n8n.baseUrl}/webhook/e2e-actions-${run}`;
      await activate(n8n, workflowId, startUrl);
      const email = `ada-${run}@example.com`;
      expect((await post(startUrl, JSON.stringify({ email }))).status).toBe(200);
      const [execution] = await finishedExecutions(n8n, workflowId, 1, 60_000);
      await deactivate(n8n, workflowId, startUrl);
      const failed = ranNodes(execution).filter((name) => nodeError(execution, name));
      expect(failed.map((name) => `${name}: ${nodeError(execution, name)}`)).toEqual([]);
      expect(execution.status).toBe('success');
      const out = (name: string) => {
        const items = nodeOutput(execution, name);
        expect(items, `${name} ran`).toBeDefined();
        return items!;
      };

      // contacts
      const contact = out('Contact: create')[0];
      expect(contact).toMatchObject({ email, first_name: 'Ada', custom_fields: { plan: 'free' } });
      expect(out('Contact: get')[0]).toMatchObject({ id: contact.id, email });
      expect(out('Contact: update')[0]).toMatchObject({ id: contact.id, company: 'Analytical Engines' });
      expect(out('Contact: upsert existing')[0]).toMatchObject({ id: contact.id, phone: '+44 20 7946 0958' });
      const upserted = out('Contact: upsert new')[0];
      expect(upserted).toMatchObject({ email: `new-${run}@example.com`, first_name: 'Grace' });
      expect(out('Contact: delete')[0]).toEqual({ deleted: true, id: upserted.id });
      expect((await crmGet(crm, actionTenant, `/contacts/${contact.id}`)).body).toMatchObject({
        company: 'Analytical Engines',
        phone: '+44 20 7946 0958',
        custom_fields: { plan: 'pro' },
      });
      expect((await crmGet(crm, actionTenant, `/contacts/${upserted.id}`)).status).toBe(404);
      const many = out('Contact: get many');
      expect(many).toHaveLength(205);
      expect(new Set(many.map((record) => record.id)).size).toBe(205);
      expect(out('Contact: get many (limit 3)')).toHaveLength(3);

      // deals
      const deal = out('Deal: create')[0];
      expect(deal).toMatchObject({ title: `E2E deal ${run}`, stage: 'negotiation', value: '12000.00', contact_id: contact.id });
      expect(out('Deal: get')[0]).toMatchObject({ id: deal.id });
      expect(out('Deal: update')[0]).toMatchObject({ id: deal.id, stage: 'won' });
      expect(out('Deal: get many').map((record) => record.id)).toEqual([deal.id]);
      const doomed = out('Deal: create (to delete)')[0];
      expect(out('Deal: delete')[0]).toEqual({ deleted: true, id: doomed.id });
      expect((await crmGet(crm, actionTenant, `/deals/${deal.id}`)).body).toMatchObject({ stage: 'won' });
      expect((await crmGet(crm, actionTenant, `/deals/${doomed.id}`)).status).toBe(404);

      // invoices
      const invoice = out('Invoice: create')[0];
      expect(invoice).toMatchObject({ number: `INV-${run}`, amount: '49.00', status: 'open', contact_id: contact.id });
      expect(out('Invoice: get')[0]).toMatchObject({ id: invoice.id });
      expect(out('Invoice: update')[0]).toMatchObject({ amount: '59.00' });
      expect(out('Invoice: mark paid')[0]).toMatchObject({ status: 'paid' });
      expect(out('Invoice: get many').map((record) => record.id)).toEqual([invoice.id]);
      const storedInvoice = (await crmGet(crm, actionTenant, `/invoices/${invoice.id}`)).body;
      expect(storedInvoice).toMatchObject({ status: 'paid', amount: '59.00' });
      expect(storedInvoice.paid_at).toBeTruthy();

      // inbound events: stored at once (202), processed a moment later
      expect(out('Inbound: lead captured')[0]).toMatchObject({ event_name: 'lead.captured', status: 'received' });
      expect(out('Inbound: payment received')[0]).toMatchObject({ event_name: 'payment.received' });
      expect(out('Inbound: other event')[0]).toMatchObject({ event_name: 'contact.upsert' });
      const lead = await waitFor('the lead contact', async () => (await crmGet(crm, actionTenant, `/contacts?email=lead-${run}@example.com`)).body.data[0]);
      expect(lead).toMatchObject({ first_name: 'Ada', last_name: 'Byron King', source: 'website_form', custom_fields: { utm_campaign: 'summer2026', metadata: { page_url: 'https://example.com/pricing' } } });
      const paid = await waitFor('the paid invoice', async () => (await crmGet(crm, actionTenant, `/invoices?external_id=in_${run}`)).body.data[0]);
      expect(paid).toMatchObject({ status: 'paid', amount: '49.00', currency: 'USD' });
      const viaUpsert = await waitFor('the upserted contact', async () => (await crmGet(crm, actionTenant, `/contacts?email=upsert-${run}@example.com`)).body.data[0]);
      expect(viaUpsert).toMatchObject({ company: 'Upserted Ltd' });
      expect(out('Inbound: lead captured (repeat)')[0].id).toBe(out('Inbound: lead captured')[0].id);

      // a CRM error under Continue On Fail: the CRM's message and code
      const missing = out('Contact: get missing')[0];
      const direct = await crmGet(crm, actionTenant, `/contacts/${MISSING_ID}`);
      expect(direct.status).toBe(404);
      expect(missing).toMatchObject({ error: direct.body.message, code: 'CONTACT_NOT_FOUND' });
      expect(direct.body.code).toBe('CONTACT_NOT_FOUND');
    });

    it('a CRM error fails the node with the CRM’s message when Continue On Fail is off', async () => {
      const run = randomBytes(4).toString('hex');
      const workflowId = await createWorkflow(n8n, {
        name: `e2e action error ${run}`,
        nodes: [
          webhookNode('Start', `e2e-error-${run}`),
          actionNode('Deal: create', credentials.actions, { resource: 'deal', operation: 'create', title: 'Bad', additionalFields: { stage: 'closed' } }),
        ],
        connections: connect('Start', 'Deal: create'),
      });
      const url = `${n8n.baseUrl}/webhook/e2e-error-${run}`;
      await activate(n8n, workflowId, url);
      await post(url, '{}');
      const [execution] = await finishedExecutions(n8n, workflowId, 1);
      await deactivate(n8n, workflowId, url);
      expect(execution.status).toBe('error');
      const direct = await callApi(crm.app.url, 'POST', '/deals', { token: actionTenant.token, body: { title: 'Bad', stage: 'closed' } });
      expect(direct.status).toBe(400);
      expect(nodeError(execution, 'Deal: create')).toBe(direct.body.message);
    });
  });

  describe('the examples', () => {
    const files = readdirSync(EXAMPLES_DIR).filter((name) => name.endsWith('.json'));

    it('are the guide’s four use cases, each with the Junction CRM nodes and with built-in nodes only', () => {
      expect(files.sort()).toEqual(
        ['1-lead-capture', '2-welcome-email', '3-deal-won-hubspot', '4-stripe-payment-invoice'].flatMap((name) => [`${name}.built-in.json`, `${name}.junction-crm.json`]),
      );
      for (const file of files.filter((name) => name.includes('.built-in.'))) {
        expect(load(file).nodes.map((node) => node.type).filter((type) => !type.startsWith('n8n-nodes-base.'))).toEqual([]);
      }
    });

    it.each(['1-lead-capture.junction-crm.json', '1-lead-capture.built-in.json'])('%s: a form post becomes a contact', async (file) => {
      const run = randomBytes(4).toString('hex');
      const { workflowId, webhookUrls } = await importExample(file, run);
      await activate(n8n, workflowId, webhookUrls[0]);
      const submission = { submission_id: `f-${run}`, email: `form-${run}@example.com`, name: 'Ada Byron King', utm_campaign: 'summer2026', page_url: 'https://example.com/pricing' };
      expect((await post(webhookUrls[0], JSON.stringify(submission))).status).toBe(200);
      const [execution] = await finishedExecutions(n8n, workflowId, 1);
      await deactivate(n8n, workflowId, webhookUrls[0]);
      expect(execution.status).toBe('success');
      const contact = await waitFor('the form contact', async () => (await crmGet(crm, triggerTenant, `/contacts?email=form-${run}@example.com`)).body.data[0]);
      expect(contact).toMatchObject({ first_name: 'Ada', last_name: 'Byron King', source: 'website_form', custom_fields: { utm_campaign: 'summer2026' } });
      expect(contact.custom_fields.metadata.page_url).toBe('https://example.com/pricing');
    });

    it.each(['2-welcome-email.junction-crm.json', '2-welcome-email.built-in.json'])('%s: a new contact is read back and reaches the SendGrid step', async (file) => {
      const run = randomBytes(4).toString('hex');
      const { workflowId, webhookUrls, subscriptionId } = await importExample(file, run, 'contact.created');
      await activate(n8n, workflowId, webhookUrls[0]);
      if (!subscriptionId) await subscribed(triggerTenant, webhookUrls[0]);
      const email = `welcome-${run}@example.com`;
      const created = await callApi(crm.app.url, 'POST', '/contacts', { token: triggerTenant.token, body: { first_name: 'Ada', email } });
      const [execution] = await finishedExecutions(n8n, workflowId, 1);
      const readBack = file.includes('built-in') ? 'GET contact' : 'Junction CRM: get contact';
      expect(nodeOutput(execution, readBack)![0]).toMatchObject({ id: created.body.id, email, first_name: 'Ada' });
      expectReachedThirdParty(execution, 'SendGrid: welcome email', { email, first_name: 'Ada' });
      if (subscriptionId) await expectForgedDeliveryStopsAtVerification(workflowId, webhookUrls[0]);
      await deactivate(n8n, workflowId, webhookUrls[0]);
      await cleanUpSubscription(subscriptionId, webhookUrls[0]);
    });

    it.each(['3-deal-won-hubspot.junction-crm.json', '3-deal-won-hubspot.built-in.json'])('%s: a deal moved to won reaches the HubSpot step', async (file) => {
      const run = randomBytes(4).toString('hex');
      const { workflowId, webhookUrls, subscriptionId } = await importExample(file, run, 'deal.stage_changed');
      await activate(n8n, workflowId, webhookUrls[0]);
      if (!subscriptionId) await subscribed(triggerTenant, webhookUrls[0]);
      const deal = await callApi(crm.app.url, 'POST', '/deals', { token: triggerTenant.token, body: { title: `Acme ${run}`, value: 12000, stage: 'negotiation' } });
      await callApi(crm.app.url, 'PATCH', `/deals/${deal.body.id}`, { token: triggerTenant.token, body: { stage: 'lost' } });
      const [lost] = await finishedExecutions(n8n, workflowId, 1);
      expect(lost.status).toBe('success');
      expect(ranNodes(lost)).not.toContain('HubSpot: create deal');
      await callApi(crm.app.url, 'PATCH', `/deals/${deal.body.id}`, { token: triggerTenant.token, body: { stage: 'won' } });
      const [, won] = await finishedExecutions(n8n, workflowId, 2);
      expect(nodeOutput(won, 'Deal won?')![0]).toMatchObject({ deal_id: deal.body.id, stage: 'won', previous_stage: 'lost', title: `Acme ${run}` });
      expectReachedThirdParty(won, 'HubSpot: create deal', { title: `Acme ${run}`, value: '12000.00' });
      await deactivate(n8n, workflowId, webhookUrls[0]);
      await cleanUpSubscription(subscriptionId, webhookUrls[0]);
    });

    it.each(['4-stripe-payment-invoice.junction-crm.json', '4-stripe-payment-invoice.built-in.json'])(
      '%s: a Stripe invoice.paid event becomes a paid invoice (the Stripe Trigger stood in for by a Webhook)',
      async (file) => {
        const run = randomBytes(4).toString('hex');
        // As shipped it imports; it cannot be activated without a Stripe account (the trigger registers itself with Stripe).
        const { workflowId: shippedId } = await importExample(file, run);
        expect(shippedId).toBeTruthy();
        const { workflowId, webhookUrls } = await importExample(file, run, undefined, standInForStripe);
        await activate(n8n, workflowId, webhookUrls[0]);
        const event = {
          id: `evt_${run}`,
          type: 'invoice.paid',
          data: { object: { id: `in_${run}`, object: 'invoice', amount_paid: 4900, currency: 'usd', customer_email: `stripe-${run}@example.com` } },
        };
        expect((await post(webhookUrls[0], JSON.stringify(event))).status).toBe(200);
        const [execution] = await finishedExecutions(n8n, workflowId, 1);
        await deactivate(n8n, workflowId, webhookUrls[0]);
        expect(execution.status).toBe('success');
        const invoice = await waitFor('the paid invoice', async () => (await crmGet(crm, triggerTenant, `/invoices?external_id=in_${run}`)).body.data[0]);
        expect(invoice).toMatchObject({ status: 'paid', amount: '49.00', currency: 'USD', number: `INV-in_${run}` });
        const payer = (await crmGet(crm, triggerTenant, `/contacts?email=stripe-${run}@example.com`)).body.data[0];
        expect(invoice.contact_id).toBe(payer.id);
      },
    );

    /** The example with its placeholders filled in: credentials, the CRM's address, unique webhook paths, and for the built-in form a subscription and its secret. */
    async function importExample(file: string, run: string, subscribe?: string, transform?: (workflow: Workflow) => Workflow) {
      let workflow = load(file);
      const builtIn = file.includes('.built-in.');
      const ids: Record<string, string> = {
        junctionCrmApi: credentials.trigger,
        httpHeaderAuth: await createCredential(n8n, `CRM token ${run}`, 'httpHeaderAuth', { name: 'Authorization', value: `Bearer ${triggerTenant.apiToken}` }),
        httpCustomAuth: await createCredential(n8n, `CRM inbound ${run}`, 'httpCustomAuth', {
          json: JSON.stringify({ headers: { 'X-Tenant-ID': triggerTenant.tenantId, 'X-API-Key': triggerTenant.inboundApiKey } }),
        }),
      };
      for (const node of workflow.nodes) {
        node.id = randomUUID();
        if (node.webhookId) node.webhookId = randomUUID();
        if (typeof node.parameters.path === 'string') node.parameters.path = `${node.parameters.path}-${run}`;
        if (typeof node.parameters.url === 'string') node.parameters.url = node.parameters.url.replace('https://crm.example.com', crm.baseUrl);
        for (const type of Object.keys(node.credentials ?? {})) {
          if (ids[type]) node.credentials![type] = { id: ids[type], name: type };
          else delete node.credentials![type]; // third-party accounts (SendGrid, HubSpot, Stripe) stay unset
        }
        // No SendGrid or HubSpot account here (nor a network to reach them), and n8n 2.x refuses to activate a
        // workflow with a node missing its credential: the step is disabled, so the run goes up to it.
        if (THIRD_PARTY.has(node.type)) node.disabled = true;
      }
      if (transform) workflow = transform(workflow);
      const webhookUrls = workflow.nodes
        .filter((node) => node.type === TRIGGER || node.type === 'n8n-nodes-base.webhook')
        .map((node) => (node.type === TRIGGER ? `${n8n.baseUrl}/webhook/${node.webhookId}/webhook` : `${n8n.baseUrl}/webhook/${node.parameters.path as string}`));
      let subscriptionId: string | undefined;
      if (builtIn && subscribe) {
        // The hand-wired way: subscribe the Webhook node's URL, paste the secret into the Code node.
        const subscription = await callApi(crm.app.url, 'POST', '/webhooks/subscriptions', {
          token: triggerTenant.token,
          body: { event_name: subscribe, target_url: webhookUrls[0] },
        });
        expect(subscription.status).toBe(201);
        subscriptionId = subscription.body.id;
        const verify = workflow.nodes.find((node) => node.type === 'n8n-nodes-base.code')!;
        expect(verify.parameters.jsCode).toContain('whsec_REPLACE_ME');
        verify.parameters.jsCode = String(verify.parameters.jsCode).replace('whsec_REPLACE_ME', subscription.body.secret);
      }
      const workflowId = await createWorkflow(n8n, { ...workflow, name: `${workflow.name} ${run}` });
      return { workflowId, webhookUrls, subscriptionId };
    }

    async function expectForgedDeliveryStopsAtVerification(workflowId: string, url: string) {
      const before = (await executions(n8n, workflowId)).length;
      const body = JSON.stringify({ event_id: randomUUID(), event_name: 'contact.created', contact_id: randomUUID(), email: 'mallory@example.com' });
      const now = Math.floor(Date.now() / 1000);
      await post(url, body, { 'webhook-id': randomUUID(), 'webhook-timestamp': String(now), 'webhook-signature': `v1,${randomBytes(32).toString('base64')}` });
      const all = await finishedExecutions(n8n, workflowId, before + 1);
      const forged = all[all.length - 1];
      expect(forged.status).toBe('error');
      expect(nodeError(forged, 'Verify signature')).toContain('Invalid webhook signature');
      expect(ranNodes(forged)).not.toContain('GET contact');
    }

    async function cleanUpSubscription(subscriptionId: string | undefined, url: string) {
      if (subscriptionId) await callApi(crm.app.url, 'DELETE', `/webhooks/subscriptions/${subscriptionId}`, { token: triggerTenant.token });
      await unsubscribed(triggerTenant, url);
    }
  });

  describe('the poll trigger and the trigger filter', () => {
    it('the poll trigger, active on n8n’s shortest schedule (every minute), emits a real change as the feed’s envelopes, oldest first', async () => {
      const tenant = await newTenant(crm, `poll-${version}`);
      const credentialId = await createCredential(n8n, `Junction CRM (poll ${version})`, 'junctionCrmApi', { baseUrl: crm.baseUrl, apiToken: tenant.apiToken, tenantId: tenant.tenantId });
      const workflowId = await createWorkflow(n8n, {
        name: 'e2e poll trigger',
        nodes: [
          {
            name: 'Junction CRM Poll Trigger',
            type: POLL_TRIGGER,
            typeVersion: 1,
            position: [0, 0],
            parameters: { event: 'deal.*', pollTimes: { item: [{ mode: 'everyMinute' }] } },
            credentials: { junctionCrmApi: { id: credentialId, name: `Junction CRM (poll ${version})` } },
          },
        ],
        connections: {},
      });
      const activated = await n8nCall(n8n, 'POST', `/api/v1/workflows/${workflowId}/activate`);
      expect(activated.status, JSON.stringify(activated.body)).toBe(200);
      // Activation runs the first poll (after=latest, nothing emitted); give n8n 2.x, which finishes activating after answering, a moment.
      await waitFor('the workflow to be active', async () => (await n8nCall(n8n, 'GET', `/api/v1/workflows/${workflowId}`)).body?.active === true);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const run = randomBytes(4).toString('hex');
      const deal = await callApi(crm.app.url, 'POST', '/deals', { token: tenant.token, body: { title: `Polled ${run}`, value: 500, stage: 'negotiation' } });
      expect(deal.status).toBe(201);
      await callApi(crm.app.url, 'PATCH', `/deals/${deal.body.id}`, { token: tenant.token, body: { stage: 'won' } });
      // The next minute's poll (maybe two, if one falls between the two changes).
      const items = await waitFor(
        'the poll trigger’s executions with the deal’s events',
        async () => {
          const all = (await executions(n8n, workflowId)).filter((execution) => execution.finished).sort((a, b) => Number(a.id) - Number(b.id));
          const polled = all.flatMap((execution) => nodeOutput(execution, 'Junction CRM Poll Trigger') ?? []);
          return polled.some((item) => item.event_name === 'deal.stage_changed') ? polled : undefined;
        },
        150_000,
        1_000,
      );
      expect(items[0]).toMatchObject({ event_name: 'deal.created', deal_id: deal.body.id, title: `Polled ${run}`, tenant_id: tenant.tenantId });
      expect(items[items.length - 1]).toMatchObject({ event_name: 'deal.stage_changed', deal_id: deal.body.id, stage: 'won' });
      expect(new Set(items.map((item) => item.event_id)).size).toBe(items.length);
      for (const item of items) expect(item).toEqual((await crmGet(crm, tenant, `/events/${item.event_id}`)).body);
      const deactivated = await n8nCall(n8n, 'POST', `/api/v1/workflows/${workflowId}/deactivate`);
      expect(deactivated.status).toBe(200);
    }, 200_000);

    it('the webhook trigger with the filter {"stage":"won"}: a deal moved to lost starts no execution, to won starts one', async () => {
      const webhookId = randomUUID();
      const webhookUrl = `${n8n.baseUrl}/webhook/${webhookId}/webhook`;
      const workflowId = await createWorkflow(n8n, {
        name: 'e2e trigger filter',
        nodes: [
          {
            name: 'Junction CRM Trigger',
            type: TRIGGER,
            typeVersion: 1,
            position: [0, 0],
            webhookId,
            parameters: { event: 'deal.stage_changed', filter: '{"stage": "won"}', options: {} },
            credentials: { junctionCrmApi: { id: credentials.trigger, name: 'Junction CRM (trigger)' } },
          },
        ],
        connections: {},
      });
      // A subscription left over for this event and URL with another filter (as after an n8n restart with the
      // Filter changed meanwhile): activation registers again, which applies the node's filter to that one.
      const leftOver = await callApi(crm.app.url, 'POST', '/webhooks/subscriptions', {
        token: triggerTenant.token,
        body: { event_name: 'deal.stage_changed', target_url: webhookUrl, filter: { stage: 'lost' } },
      });
      expect(leftOver.status).toBe(201);
      await activate(n8n, workflowId, webhookUrl);
      const subscription = await waitFor('the filter applied', async () => {
        const all = await subscriptionsFor(triggerTenant, webhookUrl);
        return all.length === 1 && all[0].filter?.stage === 'won' ? all[0] : undefined;
      });
      expect(subscription).toMatchObject({ id: leftOver.body.id, filter: { stage: 'won' }, enabled: true });
      const run = randomBytes(4).toString('hex');
      const deal = await callApi(crm.app.url, 'POST', '/deals', { token: triggerTenant.token, body: { title: `Filtered ${run}`, value: 10, stage: 'negotiation' } });
      await callApi(crm.app.url, 'PATCH', `/deals/${deal.body.id}`, { token: triggerTenant.token, body: { stage: 'lost' } });
      await callApi(crm.app.url, 'PATCH', `/deals/${deal.body.id}`, { token: triggerTenant.token, body: { stage: 'won' } });
      const [won] = await finishedExecutions(n8n, workflowId, 1);
      expect(nodeOutput(won, 'Junction CRM Trigger')).toEqual([expect.objectContaining({ event_name: 'deal.stage_changed', deal_id: deal.body.id, stage: 'won', previous_stage: 'lost' })]);
      // The move to lost made no delivery at all: the CRM's delivery log for this subscription has the won one only.
      const deliveries = await crmGet(crm, triggerTenant, `/webhooks/deliveries?subscription_id=${subscription.id}&limit=200`);
      const mine = (deliveries.body.data ?? []).filter((delivery: any) => delivery.subscription_id === subscription.id);
      expect(mine).toHaveLength(1);
      expect((await executions(n8n, workflowId)).length).toBe(1);
      await deactivate(n8n, workflowId, webhookUrl);
      await unsubscribed(triggerTenant, webhookUrl);
    });
  });
});
