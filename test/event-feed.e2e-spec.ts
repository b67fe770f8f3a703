import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactsService } from '../src/contacts/contacts.service.js';
import { registerAccount, startTestApp, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';
import { sleep, uniqueEmail } from './support/helpers.js';

const FEED = '/api/events';

interface FeedPage {
  data: Array<Record<string, any>>;
  next_cursor: string;
  has_more: boolean;
}

describe('event feed', () => {
  let t: TestApp;
  let alice: RegisteredAccount;
  let bob: RegisteredAccount;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_POLL_INTERVAL_MS: '200' });
    alice = await registerAccount(t, 'feed-alice');
    bob = await registerAccount(t, 'feed-bob');
  });
  afterAll(async () => {
    await t?.close();
  });

  const email = (prefix = 'feed'): string => uniqueEmail(prefix);

  const createContact = async (account: RegisteredAccount = alice, body: Record<string, unknown> = {}): Promise<Record<string, any>> => {
    const response = await t.request('POST', '/api/contacts', { token: account.token, body: { email: email(), ...body } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };

  const poll = async (query: Record<string, string | number> = {}, account: RegisteredAccount = alice): Promise<FeedPage> => {
    const response = await t.request('GET', FEED, { token: account.token, query });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  };

  /** Polls from `after` until no more is ready now (other databases' short transactions can hold the horizon for a moment). */
  const drain = async (after: string, query: Record<string, string | number> = {}, account: RegisteredAccount = alice): Promise<{ events: Array<Record<string, any>>; cursor: string }> => {
    const events: Array<Record<string, any>> = [];
    let cursor = after;
    for (let i = 0; i < 100; i++) {
      const page = await poll({ ...query, after: cursor }, account);
      events.push(...page.data);
      cursor = page.next_cursor;
      if (!page.has_more) break;
    }
    return { events, cursor };
  };

  /** Drains repeatedly until `done` holds for everything seen so far, or the time is up. */
  const drainUntil = async (
    after: string,
    done: (events: Array<Record<string, any>>) => boolean,
    query: Record<string, string | number> = {},
    timeoutMs = 5_000,
    account: RegisteredAccount = alice,
  ): Promise<{ events: Array<Record<string, any>>; cursor: string }> => {
    const events: Array<Record<string, any>> = [];
    let cursor = after;
    const deadline = Date.now() + timeoutMs;
    do {
      const next = await drain(cursor, query, account);
      events.push(...next.events);
      cursor = next.cursor;
      if (done(events)) break;
      await sleep(50);
    } while (Date.now() < deadline);
    return { events, cursor };
  };

  const latest = async (account: RegisteredAccount = alice): Promise<string> => {
    const page = await poll({ after: 'latest' }, account);
    expect(page.data).toEqual([]);
    return page.next_cursor;
  };

  it('serves each event exactly as the webhook delivery body, byte for byte', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      const subscribed = await t.request('POST', '/api/webhooks/subscriptions', {
        token: alice.token,
        body: { event_name: 'contact.created', target_url: receiver.url('/envelope') },
      });
      expect(subscribed.status).toBe(201);
      const cursor = await latest();
      const contact = await createContact(alice, { first_name: 'Ada', custom_fields: { plan: 'pro' } });
      await receiver.waitFor(() => receiver.on('/envelope').some((r) => r.body.contact_id === contact.id), 5_000);
      const delivered = receiver.on('/envelope').find((r) => r.body.contact_id === contact.id)!;

      const { events } = await drainUntil(cursor, (seen) => seen.some((e) => e.contact_id === contact.id));
      const fromFeed = events.find((e) => e.contact_id === contact.id)!;
      expect(JSON.stringify(fromFeed)).toBe(delivered.rawBody);

      const single = await t.request('GET', `${FEED}/${fromFeed.event_id}`, { token: alice.token });
      expect(single.status).toBe(200);
      expect(JSON.stringify(single.body)).toBe(delivered.rawBody);
      await t.request('DELETE', `/api/webhooks/subscriptions/${subscribed.body.id}`, { token: alice.token });
    } finally {
      await receiver.stop();
    }
  });

  it('never skips an event whose transaction commits after later ones were read, and shows it exactly once', async () => {
    const cursor0 = await latest();
    const dataSource = t.app.get(DataSource);
    const contacts = t.app.get(ContactsService);
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    let held: Record<string, any>;
    try {
      await runner.startTransaction();
      // The held transaction writes first (its id is the oldest), then others commit while it stays open.
      held = await contacts.insert(runner.manager, alice.tenantId, { email: email('held') });
      const committed = [await createContact(), await createContact(), await createContact()];

      // While it is open, the feed shows none of them: nothing may pass the open transaction's position.
      const during = await drain(cursor0);
      expect(during.events.map((e) => e.contact_id)).toEqual([]);
      const again = await drain(during.cursor);
      expect(again.events).toEqual([]);

      await runner.commitTransaction();
      const ids = [held.id, ...committed.map((c) => c.id)];
      const after = await drainUntil(again.cursor, (seen) => ids.every((id) => seen.some((e) => e.contact_id === id)));
      // Exactly once each, the held one first (its transaction's id is the oldest).
      expect(after.events.map((e) => e.contact_id)).toEqual(ids);

      const settled = await drain(after.cursor);
      expect(settled.events).toEqual([]);
      // A second poller that started from the same cursor sees the same order.
      const replay = await drain(cursor0);
      expect(replay.events.map((e) => e.contact_id)).toEqual(ids);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('shows nothing of a transaction that rolls back, and the events committed meanwhile once it ends', async () => {
    const cursor0 = await latest();
    const runner = t.app.get(DataSource).createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const ghost = await t.app.get(ContactsService).insert(runner.manager, alice.tenantId, { email: email('ghost') });
      const committed = await createContact();
      const during = await drain(cursor0);
      expect(during.events).toEqual([]);
      await runner.rollbackTransaction();
      const after = await drainUntil(during.cursor, (seen) => seen.some((e) => e.contact_id === committed.id));
      expect(after.events.map((e) => e.contact_id)).toEqual([committed.id]);
      expect(after.events.some((e) => e.contact_id === ghost.id)).toBe(false);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('pages oldest first with has_more, and starts at the oldest event without after', async () => {
    const carol = await registerAccount(t, 'feed-carol');
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createContact(carol));
    const seen: Array<Record<string, any>> = [];
    let cursor: string | undefined;
    const deadline = Date.now() + 5_000;
    for (let i = 0; i < 50 && Date.now() < deadline; i++) {
      const page = await poll(cursor ? { after: cursor, limit: 2 } : { limit: 2 }, carol);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.next_cursor;
      if (seen.length >= 6 && !page.has_more) break;
      if (!page.has_more) await sleep(50);
    }
    // user.created at registration, then the five contacts, in write order.
    expect(seen.map((e) => e.event_name)).toEqual(['user.created', ...made.map(() => 'contact.created')]);
    expect(seen.slice(1).map((e) => e.contact_id)).toEqual(made.map((c) => c.id));
  });

  it('filters by event name or pattern, like subscriptions', async () => {
    const cursor = await latest();
    const contact = await createContact();
    const deal = await t.request('POST', '/api/deals', { token: alice.token, body: { title: 'Feed deal', value: '10.00', currency: 'USD', contact_id: contact.id } });
    expect(deal.status, JSON.stringify(deal.body)).toBe(201);
    await t.request('PATCH', `/api/contacts/${contact.id}`, { token: alice.token, body: { company: 'Feed Ltd' } });

    const all = await drainUntil(cursor, (seen) => seen.length >= 3);
    expect(all.events.map((e) => e.event_name)).toEqual(['contact.created', 'deal.created', 'contact.updated']);
    const contactsOnly = await drain(cursor, { event_name: 'contact.*' });
    expect(contactsOnly.events.map((e) => e.event_name)).toEqual(['contact.created', 'contact.updated']);
    const dealsOnly = await drain(cursor, { event_name: 'deal.created' });
    expect(dealsOnly.events.map((e) => e.deal_id)).toEqual([deal.body.id]);

    const bad = await t.request('GET', FEED, { token: alice.token, query: { event_name: 'contact.exploded' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('event_name must be one of');
  });

  it('leaves out webhook.test, which only ever goes to one subscription', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      const subscription = await t.request('POST', '/api/webhooks/subscriptions', { token: bob.token, body: { event_name: '*', target_url: receiver.url('/t') } });
      const cursor = await latest(bob);
      const test = await t.request('POST', `/api/webhooks/subscriptions/${subscription.body.id}/test`, { token: bob.token, body: {} });
      expect(test.status, JSON.stringify(test.body)).toBeLessThan(300);
      const marker = await createContact(bob);
      const events: Array<Record<string, any>> = [];
      let next = cursor;
      for (let i = 0; i < 100 && !events.some((e) => e.contact_id === marker.id); i++) {
        const page = await poll({ after: next }, bob);
        events.push(...page.data);
        next = page.next_cursor;
        if (!page.has_more) await sleep(50);
      }
      expect(events.map((e) => e.event_name)).toEqual(['contact.created']);
      const [stored] = await t.sql<{ id: string }>(`SELECT id FROM domain_events WHERE tenant_id = $1 AND event_name = 'webhook.test'`, [bob.tenantId]);
      expect((await t.request('GET', `${FEED}/${stored.id}`, { token: bob.token })).status).toBe(404);
    } finally {
      await receiver.stop();
    }
  });

  it("never shows another tenant's events; their ids are 404 like missing ones", async () => {
    const cursor = await latest(bob);
    const alices = await createContact(alice);
    const bobs = await createContact(bob);
    const { events } = await drainUntil(cursor, (seen) => seen.some((e) => e.contact_id === bobs.id), {}, 5_000, bob);
    expect(events.every((e) => e.tenant_id === bob.tenantId)).toBe(true);
    expect(events.some((e) => e.contact_id === alices.id)).toBe(false);

    const [stored] = await t.sql<{ id: string }>(`SELECT id FROM domain_events WHERE payload->>'contact_id' = $1`, [alices.id]);
    expect((await t.request('GET', `${FEED}/${stored.id}`, { token: bob.token })).status).toBe(404);
    expect((await t.request('GET', `${FEED}/${randomUUIDLike()}`, { token: alice.token })).status).toBe(404);
    expect((await t.request('GET', `${FEED}/not-a-uuid`, { token: alice.token })).status).toBe(400);
    expect((await t.request('GET', FEED)).status).toBe(401);
  });

  it('refuses a cursor it did not hand out with a 400 naming after', async () => {
    for (const after of ['garbage', Buffer.from('v1:abc:1').toString('base64url'), Buffer.from('[1,2]').toString('base64url')]) {
      const response = await t.request('GET', FEED, { token: alice.token, query: { after } });
      expect(response.status).toBe(400);
      expect(response.body.details[0].field).toBe('after');
    }
    expect((await t.request('GET', FEED, { token: alice.token, query: { limit: 500 } })).status).toBe(400);
  });

  it('resumes at the oldest kept event when older ones were pruned', async () => {
    const dave = await registerAccount(t, 'feed-dave');
    const made = [];
    for (let i = 0; i < 4; i++) made.push(await createContact(dave));
    let first: FeedPage | null = null;
    for (let i = 0; i < 100; i++) {
      first = await poll({ limit: 2 }, dave);
      if (first.data.length === 2) break;
      await sleep(50);
    }
    expect(first!.data.map((e) => e.event_name)).toEqual(['user.created', 'contact.created']);
    // Retention prunes everything up to the third event: the cursor now points before the oldest kept one.
    await t.sql(`DELETE FROM domain_events WHERE tenant_id = $1 AND payload->>'contact_id' = ANY($2::text[])`, [dave.tenantId, [made[0].id, made[1].id]]);
    // Other test files' transactions on the same server can hold the horizon for a moment: wait, bounded.
    const rest = await drainUntil(first!.next_cursor, (seen) => seen.length >= 2, {}, 5_000, dave);
    expect(rest.events.map((e) => e.contact_id)).toEqual([made[2].id, made[3].id]);
    const fromStart = await drainUntil(Buffer.from('v1:0:0').toString('base64url'), (seen) => seen.length >= 3, {}, 5_000, dave);
    expect(fromStart.events.map((e) => e.contact_id ?? e.event_name)).toEqual(['user.created', made[2].id, made[3].id]);
  });
});

function randomUUIDLike(): string {
  const hex = randomBytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
