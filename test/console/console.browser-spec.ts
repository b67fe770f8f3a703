import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, ROOT_DIR, startAppProcess, type AppProcess } from '../support/app-process.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { launchBrowser, seriousA11yViolations, type Browser } from './browser.js';

/**
 * The web console in a real browser (Debian's Chromium via playwright-core) against the BUILT app and a real
 * database. Elements are found by role and label, as a person (or a screen reader) finds them. The steps
 * share one workspace and run in order. Screenshots of the main pages go to docs/console/.
 */

const SCREENSHOTS = path.join(ROOT_DIR, 'docs', 'console');
const PASSWORD = 'correct horse battery staple';

let database: TestDatabase;
let app: AppProcess;
let browser: Browser;
let page: Page;
const receiver = new WebhookReceiver();
let receiverFailing = false;
const admin = { email: `ada-${Date.now()}@example.com`, token: '', tenantId: '' };
let subscriptionId = '';
let secret = '';
let failedDeliveryPath = '';

async function expectAccessible(name: string): Promise<void> {
  const violations = await seriousA11yViolations(page);
  expect(violations, `serious/critical axe-core violations on the ${name} page:\n${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

async function go(hash: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${app.port}/console/${hash}`);
}

function api<T = any>(method: string, route: string, body?: unknown, token = admin.token) {
  return callApi<T>(app.url, method, route, { token, body });
}

describe('the web console at /console', () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await receiver.start();
    receiver.respond('/hook', () => (receiverFailing ? { status: 500, body: 'receiver down for maintenance' } : { status: 200, body: 'ok, thanks' }));
    database = await createTestDatabase();
    // A long first retry: a failed attempt stays failed-and-pending until "Redeliver" sends it again.
    app = await startAppProcess({ databaseUrl: database.url, env: { WEBHOOK_RETRY_SCHEDULE: '600', NODE_ENV: 'development' } });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await receiver.stop();
    await database?.drop();
  });

  it("is typed from the API's current OpenAPI document (else: npm run build && npm run console:types)", async () => {
    const served = (await api('GET', '/docs-json', undefined, '')).body;
    const committed = JSON.parse(readFileSync(path.join(ROOT_DIR, 'console', 'openapi.json'), 'utf8'));
    expect({ ...served, info: { ...served.info, version: '0' } }).toEqual(committed);
  });

  it('creates a workspace, signs out and signs in again; the token stays out of the URL', async () => {
    const response = await page.goto(`http://127.0.0.1:${app.port}/console`);
    expect(response?.status()).toBe(200);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expectAccessible('sign-in');
    await screenshot('sign-in');

    await page.getByRole('button', { name: 'Create your workspace' }).click();
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Workspace name').fill('Acme Ltd');
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create your workspace' }).click();
    await page.getByRole('heading', { name: 'Subscriptions' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/invalid|incorrect|wrong/i);
    // By keyboard alone: Tab to the Email field, Tab to Password, Enter signs in.
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate<string | undefined>("document.activeElement?.getAttribute('autocomplete')")).toBe('email');
    await page.keyboard.type(admin.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Subscriptions' }).waitFor();
    // The first Tab reaches "Skip to content", which moves the focus to the page's main content.
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.textContent?.trim()')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id')).toBe('main');

    admin.token = (await page.evaluate<string | null>("sessionStorage.getItem('junction.session')")) ?? '';
    expect(admin.token).toMatch(/^jcs_/);
    expect(page.url()).not.toContain(admin.token);
    const me = await api('GET', '/auth/me');
    admin.tenantId = me.body.tenant_id;
    await expectAccessible('subscriptions (empty)');
  });

  it('creates a subscription to a local receiver, sends a test event, reveals and rotates the secret', async () => {
    await page.getByRole('link', { name: 'New subscription' }).click();
    await page.getByLabel('Event').selectOption('contact.created');
    await page.getByLabel('Target URL').fill(receiver.url('/hook'));
    await page.getByLabel('Description').fill('n8n: welcome email');
    await page.getByLabel('Custom headers').fill('X-N8N-Auth: shared-secret-1');
    await expectAccessible('new subscription');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    secret = await page.getByRole('textbox', { name: 'Signing secret', exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('link', { name: 'Open the subscription' }).click();
    await page.getByRole('heading', { name: 'Subscription: contact.created' }).waitFor();
    subscriptionId = decodeURIComponent(new URL(page.url()).hash).split('/')[2];

    await page.getByRole('button', { name: 'Send test event' }).click();
    const result = page.getByRole('region', { name: 'Test result' });
    await result.getByText('HTTP 200').waitFor();
    await expect.poll(() => result.textContent()).toMatch(/Duration\s*\d+ ms/);
    await expect.poll(() => result.getByRole('region', { name: 'Test response excerpt' }).textContent()).toBe('ok, thanks');
    const test = receiver.on('/hook').at(-1)!;
    expect(test.headers['x-webhook-event']).toBe('webhook.test');
    expect(test.headers['x-n8n-auth']).toBe('shared-secret-1');
    // Any catalog event's example can be sent as a test, so a workflow can map its fields before real data exists.
    await page.getByLabel('Test event type').selectOption('contact.created');
    await page.getByRole('button', { name: 'Send test event' }).click();
    await receiver.waitFor((received) => received.some((request) => request.headers['x-webhook-event'] === 'contact.created' && request.body?.test === true));
    await result.getByText('HTTP 200').waitFor();

    await page.getByRole('button', { name: 'Reveal secret' }).click();
    expect(await page.getByRole('textbox', { name: 'Signing secret', exact: true }).inputValue()).toBe(secret);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('textbox', { name: 'Previous secret', exact: true }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Previous secret', exact: true }).inputValue()).toBe(secret);
    const rotated = await page.getByRole('textbox', { name: 'Signing secret', exact: true }).inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await expectAccessible('subscription');
    await screenshot('subscription');

    await go('#/subscriptions');
    await page.getByRole('link', { name: 'contact.created' }).waitFor();
    await expectAccessible('subscriptions');
    await screenshot('subscriptions');
  });

  it('shows the delivery of a contact created through the API, with its attempt', async () => {
    const contact = await api('POST', '/contacts', { first_name: 'John', last_name: 'Doe', email: 'john@example.com' });
    expect(contact.status).toBe(201);
    await receiver.waitFor((received) => received.some((request) => request.body?.event_name === 'contact.created' && request.body?.email === 'john@example.com'));

    await go('#/deliveries');
    await page.getByLabel('Event').selectOption('contact.created');
    await expect.poll(() => page.url()).toContain('event_name=contact.created');
    await page.getByRole('link', { name: /^Delivery of contact\.created/ }).first().click();
    await page.getByRole('heading', { name: 'Delivery: contact.created' }).waitFor();
    await page.getByRole('region', { name: 'Delivery summary' }).getByText('succeeded', { exact: true }).waitFor();
    const attempts = page.getByRole('region', { name: 'Attempts', exact: true });
    await attempts.getByRole('cell', { name: '200', exact: true }).waitFor();
    await attempts.getByText('ok, thanks').waitFor();
    expect(await page.getByRole('region', { name: 'Payload' }).textContent()).toContain('john@example.com');
    const headers = await page.getByRole('region', { name: 'Request headers' }).textContent();
    expect(headers).toContain('X-Webhook-Event: contact.created');
    expect(headers).toContain('X-N8N-Auth: ••••••');
    expect(headers).not.toContain('shared-secret-1');
    await expectAccessible('delivery');
    await screenshot('delivery');
  });

  it('shows a failing receiver\'s error, and "Redeliver" succeeds once it is fixed', async () => {
    receiverFailing = true;
    const contact = await api('POST', '/contacts', { first_name: 'Grace', last_name: 'Hopper', email: 'grace@example.com' });
    expect(contact.status).toBe(201);
    await receiver.waitFor((received) => received.some((request) => request.body?.email === 'grace@example.com'));

    await go('#/deliveries?status=pending');
    await page.getByRole('link', { name: /^Delivery of contact\.created/ }).first().click();
    failedDeliveryPath = new URL(page.url()).hash;
    const attempts = page.getByRole('region', { name: 'Attempts', exact: true });
    await attempts.getByRole('cell', { name: '500', exact: true }).waitFor();
    await attempts.getByText('receiver down for maintenance').waitFor();
    await attempts.getByRole('cell', { name: 'E_HTTP' }).waitFor();
    await screenshot('delivery-failed');

    receiverFailing = false;
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByRole('region', { name: 'Delivery summary' }).getByText('succeeded', { exact: true }).waitFor();
    await attempts.getByRole('cell', { name: '200', exact: true }).waitFor();
    expect(await attempts.getByRole('row').count()).toBe(3); // header + 2 attempts
    await expectAccessible('delivery (redelivered)');

    // "Recover failed since…" is offered per subscription on the filtered log.
    await go(`#/deliveries?subscription_id=${subscriptionId}`);
    await page.getByRole('button', { name: 'Recover failed since…' }).click();
    await page.getByLabel('Failed since').waitFor();
    await page.getByRole('button', { name: 'Re-queue failed deliveries' }).click();
    await page.getByRole('status').getByText('0 deliveries re-queued.').waitFor();
    await expectAccessible('deliveries');
    await screenshot('deliveries');
  });

  it('rotates the inbound API key and the shown key sends an inbound event in', async () => {
    await go('#/settings');
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByRole('button', { name: 'Copy tenant id' }).waitFor();
    await page.getByLabel('Grace period (seconds)').fill('0');
    await page.getByRole('button', { name: 'Rotate inbound API key' }).click();
    const key = await page.getByRole('textbox', { name: 'New inbound API key', exact: true }).inputValue();
    expect(key).toMatch(/^jck_/);
    expect(await page.getByRole('textbox', { name: 'X-Tenant-ID header', exact: true }).inputValue()).toBe(admin.tenantId);
    expect(await page.getByRole('textbox', { name: 'X-API-Key header', exact: true }).inputValue()).toBe(key);

    await page.getByLabel('Token name').fill('n8n production');
    await page.getByRole('button', { name: 'Create API token' }).click();
    const token = await page.getByRole('textbox', { name: 'New API token', exact: true }).inputValue();
    expect(token).toMatch(/^jct_/);
    await page.getByRole('region', { name: 'API tokens' }).getByRole('cell', { name: 'n8n production', exact: true }).waitFor();
    await expectAccessible('settings');
    await screenshot('settings');

    const response = await fetch(`${app.url}/webhooks/lead.captured`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': admin.tenantId, 'x-api-key': key },
      body: JSON.stringify({ email: 'lead@example.com', first_name: 'Lena', source: 'website_form' }),
    });
    expect(response.status).toBe(202);

    await go('#/inbound');
    await page.getByRole('link', { name: /^Inbound lead\.captured/ }).click();
    await page.getByRole('region', { name: 'Inbound event summary' }).getByText('processed', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'Open contact' }).click();
    await page.getByRole('heading', { name: 'Contact' }).waitFor();
    await expect.poll(() => page.getByRole('region', { name: 'Contact' }).textContent()).toContain('lead@example.com');
  });

  it('retries an ignored inbound event', async () => {
    const key = (await api('POST', '/tenants/current/webhook-api-key', { grace_seconds: 0 })).body.api_key;
    const response = await fetch(`${app.url}/webhooks/test.event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': admin.tenantId, 'x-api-key': key },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    await expect.poll(async () => (await api('GET', `/webhooks/events/${id}`)).body.status, { timeout: 15_000 }).toBe('ignored');

    await go('#/inbound?status=ignored');
    await page.getByRole('link', { name: /^Inbound test\.event/ }).click();
    const summary = page.getByRole('region', { name: 'Inbound event summary' });
    await summary.getByText('ignored', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(async () => (await api('GET', `/webhooks/events/${id}`)).body.attempts, { timeout: 15_000 }).toBe(2);
    await expect.poll(() => summary.textContent(), { timeout: 15_000 }).toMatch(/Attempts\s*2/);
    await expectAccessible('inbound event');

    await go('#/inbound');
    await page.getByRole('heading', { name: 'How to send one' }).waitFor();
    expect(await page.getByRole('region', { name: 'curl command' }).textContent()).toContain(`X-Tenant-ID: ${admin.tenantId}`);
    expect(await page.getByRole('region', { name: 'n8n HTTP Request settings' }).textContent()).toContain(admin.tenantId);
    await expectAccessible('inbound events');
    await screenshot('inbound');
  });

  it('lists the event types with their example payloads', async () => {
    await go('#/event-types');
    await page.getByRole('heading', { name: 'Event types' }).waitFor();
    await page.getByRole('region', { name: 'Example payload of deal.stage_changed' }).waitFor();
    expect(await page.getByRole('region', { name: 'Example payload of contact.created' }).textContent()).toContain('"email"');
    await expectAccessible('event types');
    await screenshot('event-types');
  });

  it('shows a member no admin actions (and the API refuses them anyway); the session is per tab', async () => {
    const member = { email: `bob-${Date.now()}@example.com` };
    expect((await api('POST', '/users', { email: member.email, password: PASSWORD, name: 'Bob', role: 'member' })).status).toBe(201);

    // A new tab has its own sessionStorage: it starts signed out.
    const tab = await browser.context.newPage();
    page = tab;
    await go('#/subscriptions');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(member.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'contact.created' }).waitFor();
    expect(await page.getByRole('link', { name: 'New subscription' }).count()).toBe(0);

    await go(`#/subscriptions/${subscriptionId}`);
    await page.getByRole('heading', { name: 'Subscription: contact.created' }).waitFor();
    for (const name of ['Edit', 'Disable', 'Reveal secret', 'Rotate secret', 'Send test event', 'Delete', 'Recover failed since…']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
    await go(failedDeliveryPath);
    await page.getByRole('region', { name: 'Attempts', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Redeliver' }).count()).toBe(0);
    await go('#/settings');
    await page.getByRole('heading', { name: 'Inbound API key' }).waitFor();
    expect(await page.getByRole('button', { name: 'Rotate inbound API key' }).count()).toBe(0);
    await go('#/inbound?status=ignored');
    await page.getByRole('link', { name: /^Inbound test\.event/ }).click();
    await page.getByRole('region', { name: 'Inbound event summary' }).getByText('ignored', { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await expectAccessible('inbound event (member)');

    const memberToken = (await page.evaluate<string | null>("sessionStorage.getItem('junction.session')")) ?? '';
    expect((await api('POST', '/tenants/current/webhook-api-key', {}, memberToken)).status).toBe(403);
    expect((await api('GET', `/webhooks/subscriptions/${subscriptionId}/secret`, undefined, memberToken)).status).toBe(403);
  });

  it('loads the delivery log and the inbound events fast with thousands of rows (cursor pages of 50)', async () => {
    const ROWS = 5_000;
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    try {
      await sql.query(
        `WITH events AS (
           INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
           SELECT gen_random_uuid(), $1, 'contact.created', jsonb_build_object('email', 'bulk-' || n || '@example.com'), now() - n * interval '1 second'
             FROM generate_series(1, $3::int) AS n
           RETURNING id, occurred_at)
         INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name, status, attempts, last_status_code, created_at, completed_at)
         SELECT $1, $2, id, 'contact.created', 'succeeded', 1, 200, occurred_at, occurred_at FROM events`,
        [admin.tenantId, subscriptionId, ROWS],
      );
      await sql.query(
        `INSERT INTO integration_events (tenant_id, event_name, payload, status, attempts, received_at, processed_at)
         SELECT $1, 'bulk.event', jsonb_build_object('n', n), 'ignored', 1, now() - n * interval '1 second', now() FROM generate_series(1, $2::int) AS n`,
        [admin.tenantId, ROWS],
      );
    } finally {
      await sql.end();
    }

    const timed = async (what: string, action: () => Promise<unknown>, ready: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await action();
      await ready();
      const ms = Math.round(performance.now() - started);
      process.stdout.write(`[console timing] ${what}: ${ms} ms (${ROWS} rows in the table)\n`);
      return ms;
    };
    const fiftyRows = (region: string) => expect.poll(() => page.getByRole('region', { name: region, exact: true }).getByRole('row').count()).toBe(51);
    const timings = [
      await timed('deliveries, first page', () => go('#/deliveries'), () => fiftyRows('Deliveries')),
      await timed('deliveries, next page', () => page.getByRole('link', { name: 'Next page' }).click(), () => page.getByRole('link', { name: 'First page' }).waitFor()),
      await timed('deliveries, filtered by subscription and status', () => go(`#/deliveries?subscription_id=${subscriptionId}&status=succeeded`), () => fiftyRows('Deliveries')),
      await timed('inbound events, first page', () => go('#/inbound'), () => fiftyRows('Inbound events')),
      await timed('inbound events, filtered by name', () => go('#/inbound?event_name=bulk.event&status=ignored'), () => fiftyRows('Inbound events')),
    ];
    for (const ms of timings) expect(ms).toBeLessThan(5_000);
  });

  it('is readable on a phone-width screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const hash of ['#/subscriptions', '#/deliveries', '#/inbound', '#/settings']) {
      await go(hash);
      await page.getByRole('navigation', { name: 'Console' }).waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, `${hash} scrolls sideways on a phone`).toBeLessThanOrEqual(0);
    }
    await go('#/deliveries');
    await page.getByRole('region', { name: 'Deliveries' }).waitFor();
    await screenshot('phone-deliveries');
  });
});
