import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, startTestApp, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const SUBSCRIPTIONS = '/api/webhooks/subscriptions';

describe('subscription filters', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let alice: RegisteredAccount;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_POLL_INTERVAL_MS: '200' });
    receiver = await new WebhookReceiver().start();
    alice = await registerAccount(t, 'filters-co');
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  const newPath = (name: string): string => `/${name}-${randomBytes(4).toString('hex')}`;

  const subscribe = async (eventName: string, path: string, extra: Record<string, unknown> = {}): Promise<Record<string, any>> => {
    const response = await t.request('POST', SUBSCRIPTIONS, { token: alice.token, body: { event_name: eventName, target_url: receiver.url(path), ...extra } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };

  /** The delivery rows the fan-out made for a subscription (made in the writing transaction, so no waiting). */
  const deliveriesOf = async (subscriptionId: string): Promise<string[]> =>
    (await t.sql<{ event_name: string }>('SELECT event_name FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY created_at', [subscriptionId])).map(
      (row) => row.event_name,
    );

  const createDeal = async (stage = 'lead'): Promise<Record<string, any>> => {
    const response = await t.request('POST', '/api/deals', { token: alice.token, body: { title: 'Acme plan', value: '100.00', currency: 'USD', stage } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };

  const patchDeal = async (id: string, body: Record<string, unknown>): Promise<void> => {
    const response = await t.request('PATCH', `/api/deals/${id}`, { token: alice.token, body });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  };

  it('delivers only the deal updates whose body contains {"stage": "won"} (use case 3), and makes no row for the others', async () => {
    const path = newPath('won');
    const subscription = await subscribe('deal.updated', path, { filter: { stage: 'won' } });
    expect(subscription.filter).toEqual({ stage: 'won' });
    const deal = await createDeal();
    await patchDeal(deal.id, { title: 'Acme plan v2' });
    await patchDeal(deal.id, { stage: 'won' });
    expect(await deliveriesOf(subscription.id)).toEqual(['deal.updated']);
    await receiver.waitFor(() => receiver.on(path).length >= 1, 5_000);
    const [delivered] = receiver.on(path);
    expect(delivered.body).toMatchObject({ event_name: 'deal.updated', deal_id: deal.id, stage: 'won', changes: { stage: { from: 'lead', to: 'won' } } });
  });

  it('matches nested containment: {"changes": {"stage": {}}} is "stage changed"', async () => {
    const subscription = await subscribe('deal.updated', newPath('stage-changed'), { filter: { changes: { stage: {} } } });
    const intoWon = await subscribe('deal.updated', newPath('into-won'), { filter: { changes: { stage: { to: 'won' } } } });
    const deal = await createDeal();
    await patchDeal(deal.id, { title: 'Renamed' });
    await patchDeal(deal.id, { stage: 'qualified' });
    await patchDeal(deal.id, { value: '200.00' });
    expect(await deliveriesOf(subscription.id)).toEqual(['deal.updated']);
    expect(await deliveriesOf(intoWon.id)).toEqual([]);
    await patchDeal(deal.id, { stage: 'won' });
    await patchDeal(deal.id, { title: 'Won and renamed' });
    expect(await deliveriesOf(subscription.id)).toEqual(['deal.updated', 'deal.updated']);
    expect(await deliveriesOf(intoWon.id)).toEqual(['deal.updated']);
  });

  it('filters contacts by source through a pattern subscription', async () => {
    const subscription = await subscribe('contact.*', newPath('source'), { filter: { source: 'website_form' } });
    for (const source of ['website_form', 'import', null]) {
      const response = await t.request('POST', '/api/contacts', { token: alice.token, body: { email: `s-${randomBytes(4).toString('hex')}@example.com`, source } });
      expect(response.status).toBe(201);
    }
    expect(await deliveriesOf(subscription.id)).toEqual(['contact.created']);
  });

  it('shows the filter in GET, list and OpenAPI; PATCH changes or removes it', async () => {
    const subscription = await subscribe('deal.updated', newPath('patch'), { filter: { stage: 'won' } });
    const fetched = await t.request('GET', `${SUBSCRIPTIONS}/${subscription.id}`, { token: alice.token });
    expect(fetched.body.filter).toEqual({ stage: 'won' });
    const listed = await t.request('GET', SUBSCRIPTIONS, { token: alice.token, query: { limit: 200 } });
    expect(listed.body.data.find((s: any) => s.id === subscription.id).filter).toEqual({ stage: 'won' });

    const patched = await t.request('PATCH', `${SUBSCRIPTIONS}/${subscription.id}`, { token: alice.token, body: { filter: { stage: 'lost' } } });
    expect(patched.status).toBe(200);
    expect(patched.body.filter).toEqual({ stage: 'lost' });
    const deal = await createDeal();
    await patchDeal(deal.id, { stage: 'won' });
    expect(await deliveriesOf(subscription.id)).toEqual([]);

    const cleared = await t.request('PATCH', `${SUBSCRIPTIONS}/${subscription.id}`, { token: alice.token, body: { filter: null } });
    expect(cleared.body.filter).toBeNull();
    await patchDeal(deal.id, { title: 'Any change' });
    expect(await deliveriesOf(subscription.id)).toEqual(['deal.updated']);

    const openapi = await t.request('GET', '/api/docs-json');
    const schemas = openapi.body.components.schemas;
    expect(schemas.CreateSubscriptionDto.properties.filter).toBeDefined();
    expect(schemas.SubscriptionResponseDto.properties.filter).toBeDefined();
  });

  it('re-registration with a different filter updates it; without one keeps it', async () => {
    const path = newPath('rereg');
    const first = await subscribe('deal.updated', path, { filter: { stage: 'won' } });
    const again = await t.request('POST', SUBSCRIPTIONS, { token: alice.token, body: { event_name: 'deal.updated', target_url: receiver.url(path), filter: { stage: 'lost' } } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.id);
    expect(again.body.filter).toEqual({ stage: 'lost' });
    const kept = await t.request('POST', SUBSCRIPTIONS, { token: alice.token, body: { event_name: 'deal.updated', target_url: receiver.url(path) } });
    expect(kept.body.filter).toEqual({ stage: 'lost' });
    const [row] = await t.sql<{ filter: unknown }>('SELECT filter FROM webhook_subscriptions WHERE id = $1', [first.id]);
    expect(row.filter).toEqual({ stage: 'lost' });
  });

  it('refuses filters that are not a bounded JSON object with a 400 saying why', async () => {
    let deep: Record<string, unknown> = { x: 1 };
    for (let i = 0; i < 6; i++) deep = { nested: deep };
    const cases: Array<[unknown, string]> = [
      [['stage', 'won'], 'filter must be a JSON object'],
      ['stage=won', 'filter must be a JSON object'],
      [42, 'filter must be a JSON object'],
      [{ note: 'x'.repeat(5000) }, 'at most 4096 bytes'],
      [deep, 'nested deeper than 5 levels'],
      [{ name: 'a\u0000b' }, 'NUL character'],
      [{ name: '\ud800' }, 'surrogate'],
    ];
    for (const [filter, message] of cases) {
      const response = await t.request('POST', SUBSCRIPTIONS, { token: alice.token, body: { event_name: 'deal.updated', target_url: receiver.url(newPath('bad')), filter } });
      expect(response.status, JSON.stringify(filter).slice(0, 80)).toBe(400);
      expect(response.body.message).toContain(message);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.details[0].field).toMatch(/^filter(\.|$)/);
    }
    const existing = await subscribe('deal.updated', newPath('bad-patch'));
    const patched = await t.request('PATCH', `${SUBSCRIPTIONS}/${existing.id}`, { token: alice.token, body: { filter: [1] } });
    expect(patched.status).toBe(400);
  });

  it('stores {} as no filter', async () => {
    const subscription = await subscribe('deal.created', newPath('empty'), { filter: {} });
    expect(subscription.filter).toBeNull();
    await createDeal();
    expect(await deliveriesOf(subscription.id)).toEqual(['deal.created']);
  });
});
