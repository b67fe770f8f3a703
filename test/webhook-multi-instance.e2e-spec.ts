import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, createContacts, createSubscription, registerTenant, startAppProcess, stopAllAppProcesses, type AppProcess } from './support/app-process.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';
import { sleep } from './support/helpers.js';

/**
 * Two app processes (built app, both delivery workers running) on one database: PostgreSQL is the only
 * coordinator, so 1,000 events reach each of 2 subscriptions exactly once in the normal case.
 */

const EVENTS = 1000;
const HOOKS = ['/first', '/second'];
const APP_ENV = { WEBHOOK_POLL_INTERVAL_MS: '250' };


/** The instance's own count of successful deliveries, from its Prometheus metrics. */
async function succeededBy(app: AppProcess): Promise<number> {
  const { body } = await callApi<string>(app.url, 'GET', '/metrics');
  const match = /^junction_webhook_deliveries_total\{outcome="succeeded"\} (\d+)/m.exec(body);
  return match ? Number(match[1]) : 0;
}

describe('outbound webhooks: two app processes on one database', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('error', () => undefined);
    receiver = await new WebhookReceiver().start();
  });

  afterAll(async () => {
    await stopAllAppProcesses();
    await receiver?.stop();
    await pool?.end();
    await database?.drop();
  });

  const sql = async <T extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<T[]> => (await pool.query<T>(text, values)).rows;

  it('delivers each of 1,000 events exactly once per subscription', { timeout: 120_000 }, async () => {
    const apps = await Promise.all([startAppProcess({ databaseUrl: database.url, env: APP_ENV }), startAppProcess({ databaseUrl: database.url, env: APP_ENV })]);
    const admin = await registerTenant(apps[0].url, 'multi');
    const subscriptions = [
      await createSubscription(apps[0].url, admin.token, 'contact.created', receiver.url(HOOKS[0])),
      await createSubscription(apps[1].url, admin.token, 'contact.*', receiver.url(HOOKS[1])),
    ];

    const started = Date.now();
    // Even contacts through the first instance, odd ones through the second.
    const contactIds = await createContacts((index) => apps[index % 2].url, admin.token, EVENTS, { concurrency: 20, prefix: 'multi' });
    const createdAt = Date.now();
    await receiver.waitFor((received) => received.length >= EVENTS * HOOKS.length, 60_000);
    const receivedAt = Date.now();

    // Wait for every outcome to be written, then a little longer so a late duplicate would show.
    const deadline = Date.now() + 15_000;
    let succeeded = 0;
    while (Date.now() < deadline) {
      [{ succeeded }] = await sql<{ succeeded: number }>(`SELECT count(*)::int AS succeeded FROM webhook_deliveries WHERE status = 'succeeded'`);
      if (succeeded >= EVENTS * HOOKS.length) break;
      await sleep(100);
    }
    await sleep(1_000);

    const events = await sql<{ id: string; contact_id: string }>(
      `SELECT id, payload->>'contact_id' AS contact_id FROM domain_events WHERE tenant_id = $1 AND event_name = 'contact.created'`,
      [admin.tenantId],
    );
    expect(events).toHaveLength(EVENTS);
    expect(new Set(events.map((e) => e.contact_id))).toEqual(new Set(contactIds));
    const eventIds = new Set(events.map((e) => e.id));

    // The receiver: exactly one request per (subscription, event), nothing else.
    expect(receiver.received).toHaveLength(EVENTS * HOOKS.length);
    for (const hook of HOOKS) {
      const requests: ReceivedWebhook[] = receiver.on(hook);
      const ids = requests.map((r) => String(r.body?.event_id));
      expect(requests, hook).toHaveLength(EVENTS);
      expect(new Set(ids), hook).toEqual(eventIds);
      for (const request of requests) expect(request.headers['webhook-id']).toBe(request.body.event_id);
    }

    // The database: one delivery per (subscription, event), all succeeded after exactly one attempt each.
    const [table] = await sql<{ total: number; succeeded: number; pairs: number; attempts: number }>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(DISTINCT (subscription_id, event_id))::int AS pairs,
              (SELECT count(*)::int FROM webhook_delivery_attempts) AS attempts
         FROM webhook_deliveries`,
    );
    expect(table).toEqual({ total: EVENTS * HOOKS.length, succeeded: EVENTS * HOOKS.length, pairs: EVENTS * HOOKS.length, attempts: EVENTS * HOOKS.length });
    const perSubscription = await sql<{ subscription_id: string; n: number }>(`SELECT subscription_id, count(*)::int AS n FROM webhook_deliveries GROUP BY 1`);
    expect(Object.fromEntries(perSubscription.map((row) => [row.subscription_id, row.n]))).toEqual({
      [subscriptions[0].id]: EVENTS,
      [subscriptions[1].id]: EVENTS,
    });

    // Both workers took part (their own counters add up to the total).
    const byInstance = await Promise.all(apps.map(succeededBy));
    expect(byInstance[0] + byInstance[1]).toBe(EVENTS * HOOKS.length);
    expect(byInstance[0]).toBeGreaterThan(0);
    expect(byInstance[1]).toBeGreaterThan(0);

    // attempts counts HTTP attempts only: a row claimed over a subscription's share and put back is not an attempt.
    const [{ max_attempts }] = await sql<{ max_attempts: number }>(`SELECT max(attempts)::int AS max_attempts FROM webhook_deliveries`);
    expect(max_attempts).toBe(1);
    console.warn(
      `[multi-instance] ${EVENTS} contacts created in ${((createdAt - started) / 1000).toFixed(1)} s; all ${EVENTS * HOOKS.length} requests received ` +
        `${((receivedAt - started) / 1000).toFixed(1)} s after the first create; delivered by instance: ${byInstance.join(' + ')}; ` +
        `max webhook_deliveries.attempts = ${max_attempts}`,
    );
  });
});
