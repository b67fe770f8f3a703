import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleBuildDir } from '../src/console/serve-console.js';
import { registerAccount, startTestApp, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';
import { sleep } from './support/helpers.js';

// What the web console needs from the server: the console itself at /console, and the parts of the API it
// shows that the API did not have before (a delivery's target URL and request headers as sent).


describe('the web console and the API parts it needs', () => {
  let t: TestApp;
  let admin: RegisteredAccount;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    await receiver.start();
    t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    admin = await registerAccount(t, 'console');
  });

  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('sends the security headers with every answer: a JSON body, an error, the inbound endpoint', async () => {
    const answers = [await t.request('GET', '/api/health'), await t.request('GET', '/api/no-such-route'), await t.request('POST', '/api/webhooks/lead.captured', { body: {} })];
    expect(answers.map((answer) => answer.status)).toEqual([200, 404, 401]);
    for (const answer of answers) {
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(answer.headers['strict-transport-security']).toContain('max-age=');
      expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
    }
  });

  it.runIf(existsSync(path.join(consoleBuildDir(), 'index.html')))('serves the built console at /console/, with the API security headers', async () => {
    const redirect = await t.request('GET', '/console');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/console/');
    const index = await t.request('GET', '/console/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toContain('text/html');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(index.body as string)?.[1];
    expect(script).toBeDefined();
    const asset = await t.request('GET', script!);
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await t.request('GET', '/console/no-such-file.js')).status).toBe(404);
  });

  it('links the console from the API docs', async () => {
    const document = await t.request('GET', '/api/docs-json');
    expect(document.body.info.description).toContain('](/console/)');
  });

  it("returns a delivery's target URL and request headers as sent, custom header values masked", async () => {
    const created = await t.request('POST', '/api/webhooks/subscriptions', {
      token: admin.token,
      body: { event_name: 'contact.created', target_url: receiver.url('/log'), headers: { 'X-N8N-Auth': 'top-secret-value' } },
    });
    expect(created.status).toBe(201);
    const contact = await t.request('POST', '/api/contacts', { token: admin.token, body: { first_name: 'Ada', email: 'ada@example.com' } });
    expect(contact.status).toBe(201);
    await receiver.waitFor((received) => received.some((request) => request.path === '/log'));
    const sent = receiver.on('/log')[0];

    let detail = await t.request('GET', `/api/webhooks/deliveries?subscription_id=${created.body.id}`, { token: admin.token });
    const id = detail.body.data[0].id as string;
    for (let tries = 0; tries < 100; tries += 1) {
      detail = await t.request('GET', `/api/webhooks/deliveries/${id}`, { token: admin.token });
      if (detail.body.attempts.length > 0) break;
      await sleep(50);
    }
    expect(detail.status).toBe(200);
    expect(detail.body.target_url).toBe(receiver.url('/log'));
    const headers = detail.body.request_headers as Record<string, string>;
    expect(headers['X-N8N-Auth']).toBe('••••••');
    expect(JSON.stringify(headers)).not.toContain('top-secret-value');
    // Every header the receiver got is listed; the fixed ones with the values it got.
    const names = Object.keys(headers).map((name) => name.toLowerCase());
    for (const name of ['content-type', 'user-agent', 'x-webhook-event', 'x-webhook-id', 'x-webhook-timestamp', 'x-webhook-signature', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-n8n-auth']) {
      expect(names).toContain(name);
      expect(sent.headers[name]).toBeDefined();
    }
    for (const name of ['Content-Type', 'User-Agent', 'X-Webhook-Event', 'X-Webhook-Id', 'webhook-id']) {
      expect(headers[name]).toBe(sent.headers[name.toLowerCase()]);
    }
    expect(headers['X-Webhook-Signature-Previous']).toBeUndefined();

    // During a secret rotation both signatures are sent, and the log says so.
    const rotated = await t.request('POST', `/api/webhooks/subscriptions/${created.body.id}/rotate-secret`, { token: admin.token });
    expect(rotated.status).toBe(200);
    const during = await t.request('GET', `/api/webhooks/deliveries/${id}`, { token: admin.token });
    expect(during.body.request_headers['X-Webhook-Signature-Previous']).toBeDefined();
  });

  it("answers 404 for another tenant's delivery", async () => {
    const other = await registerAccount(t, 'other');
    const list = await t.request('GET', '/api/webhooks/deliveries', { token: admin.token });
    const response = await t.request('GET', `/api/webhooks/deliveries/${list.body.data[0].id}`, { token: other.token });
    expect(response.status).toBe(404);
  });
});
