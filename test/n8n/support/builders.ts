import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { n8nCall, PACKAGE_DIR, type N8nProcess } from './n8n.js';
import { nodeError, nodeOutput, ranNodes, type Execution, type Workflow, type WorkflowNode } from './workflows.js';

/** The workflows the n8n e2e builds or loads, and what it checks in their executions. */

export const TRIGGER = 'n8n-nodes-junction-crm.junctionCrmTrigger';
export const POLL_TRIGGER = 'n8n-nodes-junction-crm.junctionCrmPollTrigger';
export const ACTION = 'n8n-nodes-junction-crm.junctionCrm';
export const EXAMPLES_DIR = path.join(PACKAGE_DIR, 'examples');
export const THIRD_PARTY = new Set(['n8n-nodes-base.sendGrid', 'n8n-nodes-base.hubspot']);

export function load(file: string): Workflow {
  return JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Workflow;
}

/**
 * The run reached the third-party step with `expected` as its input, every node before it without error. The
 * step itself is disabled for the run (see importExample), so n8n passes its input through and records it.
 */
export function expectReachedThirdParty(execution: Execution, thirdParty: string, expected: Record<string, unknown>) {
  const ran = ranNodes(execution);
  for (const name of ran) expect(nodeError(execution, name), name).toBeUndefined();
  expect(execution.status).toBe('success');
  expect(nodeOutput(execution, thirdParty)?.[0]).toMatchObject(expected);
}

/**
 * Stripe cannot call this machine: the Stripe Trigger is replaced by a Webhook node that receives the Stripe
 * event and a Code node named "Stripe Trigger" that outputs it as the trigger does (the event itself), so
 * every later node runs unchanged.
 */
export function standInForStripe(workflow: Workflow): Workflow {
  const stripe = workflow.nodes.find((node) => node.type === 'n8n-nodes-base.stripeTrigger')!;
  const webhook = webhookNode('Stripe (stand-in)', `stripe-stand-in-${randomBytes(3).toString('hex')}`);
  const asTrigger: WorkflowNode = {
    name: stripe.name,
    type: 'n8n-nodes-base.code',
    typeVersion: 2,
    position: stripe.position,
    parameters: { jsCode: 'return $input.all().map((item) => ({ json: item.json.body }));' },
  };
  return {
    ...workflow,
    nodes: [webhook, asTrigger, ...workflow.nodes.filter((node) => node !== stripe)],
    connections: { ...workflow.connections, ...connect(webhook.name, stripe.name) },
  };
}

export const MISSING_ID = '00000000-0000-4000-8000-000000000000';

export function webhookNode(name: string, webhookPath: string): WorkflowNode {
  return {
    name,
    type: 'n8n-nodes-base.webhook',
    typeVersion: 2,
    position: [-200, 0],
    webhookId: randomUUID(),
    parameters: { httpMethod: 'POST', path: webhookPath, responseMode: 'onReceived', options: {} },
  };
}

let column = 0;
export function actionNode(name: string, credentialId: string, parameters: Record<string, unknown>, extra: Partial<WorkflowNode> = {}): WorkflowNode {
  column += 1;
  return {
    name,
    type: ACTION,
    typeVersion: 1,
    position: [column * 200, 0],
    parameters,
    credentials: { junctionCrmApi: { id: credentialId, name: 'Junction CRM (actions)' } },
    ...extra,
  };
}

/** Connections for a chain a → b → c, plus any extra edges [from, to]. */
export function connect(...names: string[]): Record<string, { main: Array<Array<{ node: string; type: string; index: number }>> }> {
  const connections: Record<string, { main: Array<Array<{ node: string; type: string; index: number }>> }> = {};
  for (let i = 0; i + 1 < names.length; i++) connections[names[i]] = { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] };
  return connections;
}

/** One workflow running every operation of the action node, in order, each on the records the previous ones made. */
export function actionsWorkflow(run: string, credentialId: string): Workflow {
  const contactId = "={{ $('Contact: create').item.json.id }}";
  const steps: Array<[string, Record<string, unknown>, Partial<WorkflowNode>?]> = [
    ['Contact: create', { resource: 'contact', operation: 'create', email: "={{ $('Start').item.json.body.email }}", additionalFields: { first_name: 'Ada', last_name: 'Lovelace', custom_fields: '{"plan":"free"}' } }],
    ['Contact: get', { resource: 'contact', operation: 'get', contactId }],
    ['Contact: update', { resource: 'contact', operation: 'update', contactId, updateFields: { company: 'Analytical Engines', custom_fields: '{"plan":"pro"}' } }],
    ['Contact: upsert existing', { resource: 'contact', operation: 'upsert', email: "={{ $('Start').item.json.body.email }}", additionalFields: { phone: '+44 20 7946 0958' } }],
    ['Contact: upsert new', { resource: 'contact', operation: 'upsert', email: `new-${run}@example.com`, additionalFields: { first_name: 'Grace' } }],
    ['Contact: delete', { resource: 'contact', operation: 'delete', contactId: "={{ $('Contact: upsert new').item.json.id }}" }],
    ['Deal: create', { resource: 'deal', operation: 'create', title: `E2E deal ${run}`, additionalFields: { value: '12000', stage: 'negotiation', contact_id: contactId } }],
    ['Deal: get', { resource: 'deal', operation: 'get', dealId: "={{ $('Deal: create').item.json.id }}" }],
    ['Deal: update', { resource: 'deal', operation: 'update', dealId: "={{ $('Deal: create').item.json.id }}", updateFields: { stage: 'won' } }],
    ['Deal: get many', { resource: 'deal', operation: 'getAll', returnAll: true, filters: { contact_id: contactId, stage: 'won' } }],
    ['Deal: create (to delete)', { resource: 'deal', operation: 'create', title: `Doomed ${run}`, additionalFields: {} }],
    ['Deal: delete', { resource: 'deal', operation: 'delete', dealId: "={{ $('Deal: create (to delete)').item.json.id }}" }],
    ['Invoice: create', { resource: 'invoice', operation: 'create', number: `INV-${run}`, amount: '49.00', additionalFields: { contact_id: contactId, external_id: `ext-${run}` } }],
    ['Invoice: get', { resource: 'invoice', operation: 'get', invoiceId: "={{ $('Invoice: create').item.json.id }}" }],
    ['Invoice: update', { resource: 'invoice', operation: 'update', invoiceId: "={{ $('Invoice: create').item.json.id }}", updateFields: { amount: '59.00' } }],
    ['Invoice: mark paid', { resource: 'invoice', operation: 'markPaid', invoiceId: "={{ $('Invoice: create').item.json.id }}", options: {} }],
    ['Invoice: get many', { resource: 'invoice', operation: 'getAll', returnAll: false, limit: 10, filters: { external_id: `ext-${run}` } }],
    [
      'Inbound: lead captured',
      {
        resource: 'inboundEvent',
        operation: 'send',
        eventType: 'lead.captured',
        email: `lead-${run}@example.com`,
        leadFields: { name: 'Ada Byron King', source: 'website_form', utm_campaign: 'summer2026', extra: '{"metadata":{"page_url":"https://example.com/pricing"}}' },
        inboundOptions: { idempotencyKey: `lead-${run}` },
      },
    ],
    [
      'Inbound: lead captured (repeat)',
      { resource: 'inboundEvent', operation: 'send', eventType: 'lead.captured', email: `lead-${run}@example.com`, leadFields: {}, inboundOptions: { idempotencyKey: `lead-${run}` } },
    ],
    [
      'Inbound: payment received',
      { resource: 'inboundEvent', operation: 'send', eventType: 'payment.received', customer_email: `pay-${run}@example.com`, invoice_id: `in_${run}`, amount: '49', currency: 'usd', inboundOptions: {} },
    ],
    [
      'Inbound: other event',
      { resource: 'inboundEvent', operation: 'send', eventType: 'custom', eventName: 'contact.upsert', jsonBody: JSON.stringify({ email: `upsert-${run}@example.com`, company: 'Upserted Ltd' }), inboundOptions: {} },
    ],
    ['Contact: get missing', { resource: 'contact', operation: 'get', contactId: MISSING_ID }, { onError: 'continueRegularOutput' }],
    ['Contact: get many', { resource: 'contact', operation: 'getAll', returnAll: true, filters: { q: `pageco${run}` } }],
  ];
  const nodes: WorkflowNode[] = [webhookNode('Start', `e2e-actions-${run}`)];
  for (const [name, parameters, extra] of steps) nodes.push(actionNode(name, credentialId, parameters, extra));
  nodes.push(actionNode('Contact: get many (limit 3)', credentialId, { resource: 'contact', operation: 'getAll', returnAll: false, limit: 3, filters: { q: `pageco${run}` } }));
  const connections = connect('Start', ...steps.map(([name]) => name));
  // Both lists hang off the last single-item node, so nothing after them runs once per listed contact.
  connections['Contact: get missing'].main[0].push({ node: 'Contact: get many (limit 3)', type: 'main', index: 0 });
  return { name: `e2e actions ${run}`, nodes, connections };
}

/** The trigger's event options, as the editor loads them: n8n's internal dynamic-node-parameters route with the owner's session. */
export async function n8nRestLoadOptions(n8n: N8nProcess, credentialId: string): Promise<string[]> {
  const response = await n8nCall(n8n, 'POST', '/rest/dynamic-node-parameters/options', {
    nodeTypeAndVersion: { name: TRIGGER, version: 1 },
    path: 'event',
    methodName: 'getEvents',
    currentNodeParameters: { event: 'contact.created' },
    credentials: { junctionCrmApi: { id: credentialId, name: 'Junction CRM (trigger)' } },
  });
  if (response.status !== 200) throw new Error(`load options: ${response.status} ${JSON.stringify(response.body)}`);
  return (response.body.data as Array<{ value: string }>).map((option) => option.value);
}
