import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SAMPLES } from '../src/lib/samples';
import { FEED_STORE_KEY, type FeedState } from '../src/lib/triggers/feed';
import { crmEventPolling } from '../src/lib/triggers/triggers';
import { asPollingTrigger, connection, pollingHarness, type AuthValue } from './support/context';
import { api, newAccount, startCrm, type Account, type Crm } from './support/crm';
import { Receiver } from './support/receiver';

let crm: Crm;
let account: Account;
let auth: AuthValue;
const receiver = new Receiver();
const trigger = asPollingTrigger(crmEventPolling);

before(async () => {
  [crm] = await Promise.all([startCrm(), receiver.start()]);
  account = await newAccount(crm, 'poller');
  auth = connection({ base_url: crm.baseUrl, api_token: account.apiToken });
  // The account's own user.created must be in the feed before a flow starts at "now", or it would come after.
  await waitUntilInFeed((event) => event.event_name === 'user.created');
});

after(async () => {
  await receiver.stop();
  await crm?.stop();
});

type Flow = ReturnType<typeof pollingHarness<typeof crmEventPolling.props>>;

function flowOn(event: string): Flow {
  return pollingHarness<typeof crmEventPolling.props>({ auth, propsValue: { event } });
}

/**
 * Polls as Activepieces would, every 100 ms, until `done` holds for everything emitted so far (at most 15 s):
 * an event shows in the feed once every older transaction on the PostgreSQL server has ended, so it may take
 * a poll or two. Returns everything emitted, in order.
 */
async function pollUntil(flow: Flow, done: (events: any[]) => boolean, timeoutMs = 15_000): Promise<any[]> {
  const events: any[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    events.push(...((await trigger.run(flow.runContext())) as any[]));
    if (done(events)) return events;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; emitted so far: ${JSON.stringify(events.map((event) => event.event_name))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Waits (at most 15 s) until an event that `match` accepts is in the feed, read from its start. The feed shows
 * an event once every older transaction on the PostgreSQL server has ended, and `after=latest` starts before
 * the events not shown yet: a test waits for its setup's events so that a flow it then turns on does not get them.
 */
async function waitUntilInFeed(match: (event: any) => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const response = await api(crm, 'GET', `/events?limit=200${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`, { token: account.apiToken });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      if (response.body.data.some(match)) return;
      cursor = response.body.next_cursor;
      if (!response.body.has_more) break;
    }
    if (Date.now() > deadline) throw new Error('timed out after 15 s waiting for an event in the feed');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function createContact(email: string, extra: Record<string, unknown> = {}): Promise<any> {
  const created = await api(crm, 'POST', '/contacts', { token: account.apiToken, body: { email, ...extra } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

describe('crm_event_polling', () => {
  it('is a POLLING trigger named as the issue pins, with the same Event dropdown as crm_event', async () => {
    assert.equal(trigger.type, 'POLLING');
    assert.equal(trigger.name, 'crm_event_polling');
    assert.equal(trigger.displayName, 'CRM Event (polling)');
    assert.deepEqual(trigger.sampleData, SAMPLES['contact.created']);
    const state = await crmEventPolling.props.event.options({ auth }, undefined as never);
    const values = state.options.map((option) => option.value);
    for (const name of ['contact.created', 'deal.stage_changed', 'contact.*', '*']) assert.ok(values.includes(name), `${name} offered`);
  });

  it('onEnable stores the cursor of now; with no events a poll emits nothing and keeps a cursor', async () => {
    const flow = flowOn('*');
    await trigger.onEnable(flow.hookContext());
    const state = (await flow.store.get<FeedState>(FEED_STORE_KEY))!;
    assert.equal(typeof state.cursor, 'string');
    assert.ok(state.cursor.length > 0);
    assert.equal(state.event_name, '*');
    assert.deepEqual(await trigger.run(flow.runContext()), []);
    const after = (await flow.store.get<FeedState>(FEED_STORE_KEY))!;
    assert.equal(typeof after.cursor, 'string');
    assert.ok(after.cursor.length > 0, 'the cursor is never null');
    await trigger.onDisable(flow.hookContext());
    assert.equal(await flow.store.get(FEED_STORE_KEY), null);
  });

  it('emits exactly the real changes once, oldest first, as the webhook envelopes; the next poll emits nothing new', async () => {
    // A webhook subscription beside it, to compare the envelopes byte for byte with what a delivery carries.
    const hook = await api(crm, 'POST', '/webhooks/subscriptions', { token: account.apiToken, body: { event_name: '*', target_url: receiver.url('/hook/all') } });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));

    const flow = flowOn('*');
    await trigger.onEnable(flow.hookContext());
    const contact = await createContact('poll-ada@example.com', { first_name: 'Ada' });
    const deal = await api(crm, 'POST', '/deals', { token: account.apiToken, body: { title: 'Polled deal', value: 1200, currency: 'EUR', contact_id: contact.id } });
    assert.equal(deal.status, 201, JSON.stringify(deal.body));
    const moved = await api(crm, 'PATCH', `/deals/${deal.body.id}`, { token: account.apiToken, body: { stage: 'won' } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));

    const events = await pollUntil(flow, (seen) => seen.some((event) => event.event_name === 'deal.stage_changed'));
    assert.deepEqual(
      events.map((event) => event.event_name),
      ['contact.created', 'deal.created', 'deal.updated', 'deal.stage_changed'],
    );
    assert.equal(new Set(events.map((event) => event.event_id)).size, events.length, 'each event once');
    assert.equal(events[0].contact_id, contact.id);
    assert.equal(events[0].email, 'poll-ada@example.com');
    assert.equal(events[3].deal_id, deal.body.id);
    assert.equal(events[3].stage, 'won');
    assert.equal(events[3].previous_stage, 'lead');
    assert.ok(events.every((event) => event.tenant_id === account.tenantId && typeof event.occurred_at === 'string'));

    for (const event of events) {
      const delivery = await receiver.waitFor('/hook/all', (request) => (request.body as any).event_id === event.event_id);
      assert.equal(JSON.stringify(event), delivery.rawBody.toString('utf8'), `${event.event_name} is the delivery body`);
    }

    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await trigger.run(flow.runContext()), [], 'a second poll emits nothing new');
    assert.deepEqual(await trigger.run(flow.runContext()), []);
    await trigger.onDisable(flow.hookContext());
    await api(crm, 'DELETE', `/webhooks/subscriptions/${hook.body.id}`, { token: account.apiToken });
  });

  it('on contact.* emits the contact events only, and follows has_more through a backlog larger than one page', async () => {
    const flow = flowOn('contact.*');
    await trigger.onEnable(flow.hookContext());
    const first = await createContact('poll-pat@example.com');
    const deal = await api(crm, 'POST', '/deals', { token: account.apiToken, body: { title: 'Not a contact event' } });
    assert.equal(deal.status, 201);
    const updated = await api(crm, 'PATCH', `/contacts/${first.id}`, { token: account.apiToken, body: { company: 'Initech' } });
    assert.equal(updated.status, 200);

    const events = await pollUntil(flow, (seen) => seen.some((event) => event.event_name === 'contact.updated'));
    assert.deepEqual(events.map((event) => [event.event_name, event.contact_id]), [
      ['contact.created', first.id],
      ['contact.updated', first.id],
    ]);
    assert.deepEqual(events[1].changes, { company: { from: null, to: 'Initech' } });

    // 120 contacts in one batch-free burst: more than one page of 100; one poll drains them all, in order.
    const emails: string[] = [];
    for (let i = 0; i < 120; i++) emails.push(`poll-bulk-${i}@example.com`);
    for (const email of emails) await createContact(email);
    const bulk = await pollUntil(flow, (seen) => seen.length >= emails.length, 30_000);
    assert.deepEqual(bulk.map((event) => event.email), emails);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await trigger.run(flow.runContext()), []);
    await trigger.onDisable(flow.hookContext());
  });

  it('a stored cursor the CRM refuses (400 INVALID_CURSOR) restarts at now, and polling goes on from there', async () => {
    const flow = flowOn('contact.created');
    await trigger.onEnable(flow.hookContext());
    const state = (await flow.store.get<FeedState>(FEED_STORE_KEY))!;
    await flow.store.put<FeedState>(FEED_STORE_KEY, { ...state, cursor: 'not-a-cursor' });
    const refused = await api(crm, 'GET', '/events?after=not-a-cursor', { token: account.apiToken });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, 'INVALID_CURSOR');

    assert.deepEqual(await trigger.run(flow.runContext()), []);
    const restarted = (await flow.store.get<FeedState>(FEED_STORE_KEY))!;
    assert.notEqual(restarted.cursor, 'not-a-cursor');
    assert.equal((await api(crm, 'GET', `/events?after=${encodeURIComponent(restarted.cursor)}`, { token: account.apiToken })).status, 200);

    const contact = await createContact('poll-after-restart@example.com');
    const events = await pollUntil(flow, (seen) => seen.length > 0);
    assert.deepEqual(events.map((event) => event.contact_id), [contact.id]);
    await trigger.onDisable(flow.hookContext());
  });

  it('without a stored cursor (onEnable never ran) the first poll starts at now and emits nothing', async () => {
    const flow = flowOn('*');
    const before = await createContact('poll-before@example.com');
    await waitUntilInFeed((event) => event.contact_id === before.id);
    assert.deepEqual(await trigger.run(flow.runContext()), []);
    assert.ok((await flow.store.get<FeedState>(FEED_STORE_KEY))?.cursor);
  });

  it('never emits an event id it emitted already (safety net beside the cursor)', async () => {
    const flow = flowOn('contact.created');
    await trigger.onEnable(flow.hookContext());
    const start = (await flow.store.get<FeedState>(FEED_STORE_KEY))!.cursor;
    const contact = await createContact('poll-twice@example.com');
    const [event] = await pollUntil(flow, (seen) => seen.length > 0);
    assert.equal(event.contact_id, contact.id);
    // Rewind the cursor as a store restored from a backup would: the event is in the feed again, but not emitted again.
    const state = (await flow.store.get<FeedState>(FEED_STORE_KEY))!;
    await flow.store.put<FeedState>(FEED_STORE_KEY, { ...state, cursor: start });
    assert.deepEqual(await trigger.run(flow.runContext()), []);
    await trigger.onDisable(flow.hookContext());
  });

  it('test gives a real matching event of the tenant (delivery log, else the feed), else the catalog example', async () => {
    // No subscription is left (their delivery log went with them): the event comes from the feed.
    const [real] = (await trigger.test(flowOn('contact.created').runContext())) as any[];
    assert.equal(real.event_name, 'contact.created');
    assert.equal(real.tenant_id, account.tenantId, 'a real event of the tenant');
    const [created] = (await trigger.test(flowOn('deal.*').runContext())) as any[];
    assert.equal(created.tenant_id, account.tenantId);
    assert.match(created.event_name, /^deal\./);
    const [example] = (await trigger.test(flowOn('invoice.paid').runContext())) as any[];
    assert.deepEqual(example, SAMPLES['invoice.paid']);
  });

  it('a member’s token can poll (no subscription is made)', async () => {
    const email = `poll-member-${Date.now()}@example.com`;
    const user = await api(crm, 'POST', '/users', { token: account.sessionToken, body: { email, password: 'correct horse battery staple', name: 'Member', role: 'member' } });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const login = await api(crm, 'POST', '/auth/login', { body: { email, password: 'correct horse battery staple' } });
    const flow = pollingHarness<typeof crmEventPolling.props>({ auth: connection({ base_url: crm.baseUrl, api_token: login.body.token }), propsValue: { event: 'contact.created' } });
    await trigger.onEnable(flow.hookContext());
    const contact = await createContact('poll-seen-by-member@example.com');
    const events = await pollUntil(flow, (seen) => seen.length > 0);
    assert.deepEqual(events.map((event) => event.contact_id), [contact.id]);
  });
});
