import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, startTestApp, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';
import { sleep } from './support/helpers.js';

describe('webhook secrets at rest', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let account: RegisteredAccount;

  beforeAll(async () => {
    t = await startTestApp({ WEBHOOK_POLL_INTERVAL_MS: '200' });
    receiver = await new WebhookReceiver().start();
    account = await registerAccount(t, 'secrets');
  });

  afterAll(async () => {
    await receiver.stop();
    await t.close();
  });

  it('stores the secret and custom headers encrypted, never as text', async () => {
    const created = await t.request('POST', '/api/webhooks/subscriptions', {
      token: account.token,
      body: { event_name: 'contact.created', target_url: receiver.url('/plain'), headers: { 'X-Shared': 'header-secret-value' } },
    });
    expect(created.status).toBe(201);
    const [row] = await t.sql('SELECT row_to_json(s)::text AS json FROM webhook_subscriptions s WHERE id = $1', [created.body.id]);
    expect(row.json).not.toContain(created.body.secret);
    expect(row.json).not.toContain('header-secret-value');
  });

  it('fails a delivery at once, with a reason naming SECRETS_ENCRYPTION_KEY, when the secret cannot be decrypted', async () => {
    const created = await t.request('POST', '/api/webhooks/subscriptions', {
      token: account.token,
      body: { event_name: 'contact.updated', target_url: receiver.url('/undecryptable') },
    });
    // What a different SECRETS_ENCRYPTION_KEY looks like from here: ciphertext this key cannot open.
    await t.sql('UPDATE webhook_subscriptions SET secret_encrypted = $2 WHERE id = $1', [created.body.id, `v1:${randomBytes(48).toString('base64')}`]);
    const contact = await t.request('POST', '/api/contacts', { token: account.token, body: { email: 'secret-test@example.com' } });
    await t.request('PATCH', `/api/contacts/${contact.body.id}`, { token: account.token, body: { phone: '123' } });

    let delivery: any;
    for (let i = 0; i < 50 && delivery?.status !== 'failed'; i += 1) {
      await sleep(100);
      const list = await t.request('GET', '/api/webhooks/deliveries', { token: account.token, query: { subscription_id: created.body.id } });
      delivery = list.body.data[0];
    }
    expect(delivery).toMatchObject({ status: 'failed', attempt_count: 1 });
    expect(delivery.last_error).toMatch(/SECRETS_ENCRYPTION_KEY/);
    expect(receiver.on('/undecryptable')).toHaveLength(0);
  });
});
