import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETENTION_LOCK_KEY, RetentionService } from '../src/retention/retention.service.js';
import { registerAccount, startTestApp, type RegisteredAccount, type TestApp } from './support/test-app.js';

/**
 * Retention (issue 13): rows whose timestamps are set in the past are pruned by RetentionService.pruneExpired(),
 * the scheduled job's one run, with DELIVERY_RETENTION_DAYS / INBOUND_RETENTION_DAYS / EVENT_RETENTION_DAYS at
 * their 30-day default; pending work and what still refers to a domain event are kept.
 */
describe('retention: pruning deliveries, inbound events and domain events past their period', () => {
  let t: TestApp;
  let admin: RegisteredAccount;
  let subscriptionId: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAccount(t, 'retention');
    const subscription = await t.request('POST', '/api/webhooks/subscriptions', {
      token: admin.token,
      body: { event_name: 'contact.created', target_url: 'http://127.0.0.1:9/never', enabled: false },
    });
    expect(subscription.status, JSON.stringify(subscription.body)).toBe(201);
    subscriptionId = subscription.body.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  /** A domain event `daysAgo` old; with a delivery when `delivery` is given (its status and completion age). */
  async function event(daysAgo: number, delivery?: { status: 'pending' | 'succeeded' | 'failed'; completedDaysAgo: number | null }): Promise<{ eventId: string; deliveryId?: string }> {
    const eventId = randomUUID();
    await t.sql(
      `INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at) VALUES ($1, $2, 'contact.created', '{}', now() - make_interval(days => $3))`,
      [eventId, admin.tenantId, daysAgo],
    );
    if (!delivery) return { eventId };
    const [{ id }] = await t.sql<{ id: string }>(
      // A pending one waits for a retry a day ahead, so the running delivery worker leaves it alone.
      `INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name, status, attempts, created_at, completed_at, next_attempt_at)
       VALUES ($1, $2, $3, 'contact.created', $4, 1, now() - make_interval(days => $5), now() - make_interval(days => $6::int), now() + interval '1 day')
       RETURNING id`,
      [admin.tenantId, subscriptionId, eventId, delivery.status, daysAgo, delivery.completedDaysAgo],
    );
    await t.sql(`INSERT INTO webhook_delivery_attempts (delivery_id, attempted_at, status_code, duration_ms) VALUES ($1, now() - make_interval(days => $2), 200, 5)`, [id, daysAgo]);
    return { eventId, deliveryId: id };
  }

  async function inbound(status: string, receivedDaysAgo: number, processedDaysAgo: number | null, count = 1): Promise<string[]> {
    const rows = await t.sql<{ id: string }>(
      `INSERT INTO integration_events (tenant_id, event_name, payload, status, attempts, received_at, processed_at)
       SELECT $1, 'test.event', '{}', $2, 1, now() - make_interval(days => $3), now() - make_interval(days => $4::int)
         FROM generate_series(1, $5)
       RETURNING id`,
      [admin.tenantId, status, receivedDaysAgo, processedDaysAgo, count],
    );
    return rows.map((row) => row.id);
  }

  const exists = async (table: string, id: string) => (await t.sql(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).length === 1;

  it('deletes finished rows older than 30 days and keeps pending work and whatever a kept delivery refers to', async () => {
    const oldSucceeded = await event(40, { status: 'succeeded', completedDaysAgo: 40 });
    const recentSucceeded = await event(10, { status: 'succeeded', completedDaysAgo: 10 });
    // Still being retried after 40 days (e.g. re-queued by /recover): kept, and so is its event.
    const oldPending = await event(40, { status: 'pending', completedDaysAgo: null });
    // Failed 31 days ago: its own window has ended. Failed 5 days ago (after weeks of retries): kept with its event.
    const oldFailed = await event(45, { status: 'failed', completedDaysAgo: 31 });
    const recentlyFailed = await event(40, { status: 'failed', completedDaysAgo: 5 });
    const oldWithoutDeliveries = await event(40);
    const recentWithoutDeliveries = await event(29);

    const [processedOld] = await inbound('processed', 40, 40);
    const [ignoredOld] = await inbound('ignored', 35, 35);
    const [failedOld] = await inbound('failed', 40, 31);
    const [processedRecent] = await inbound('processed', 29, 29);
    const [failedRecent] = await inbound('failed', 40, 2);
    const [receivedOld] = await inbound('received', 40, null);
    const [processingOld] = await inbound('processing', 40, null);
    // More than one batch (1,000 rows) of old processed events: the job loops over batches.
    const bulk = await inbound('processed', 60, 60, 2_500);

    const counts = await t.app.get(RetentionService).pruneExpired();

    expect(counts).toEqual({ webhook_deliveries: 2, integration_events: 2_503, domain_events: 3 });
    // Deliveries: finished and past the window → gone with their attempts.
    expect(await exists('webhook_deliveries', oldSucceeded.deliveryId!)).toBe(false);
    expect(await exists('webhook_deliveries', oldFailed.deliveryId!)).toBe(false);
    expect(await t.sql('SELECT 1 FROM webhook_delivery_attempts WHERE delivery_id = ANY($1::uuid[])', [[oldSucceeded.deliveryId, oldFailed.deliveryId]])).toEqual([]);
    for (const kept of [recentSucceeded, oldPending, recentlyFailed]) expect(await exists('webhook_deliveries', kept.deliveryId!)).toBe(true);
    expect(await t.sql('SELECT 1 FROM webhook_delivery_attempts WHERE delivery_id = $1', [oldPending.deliveryId])).toHaveLength(1);
    // Domain events: old and unreferenced → gone; an old one with a pending or kept delivery stays.
    for (const gone of [oldSucceeded, oldFailed, oldWithoutDeliveries]) expect(await exists('domain_events', gone.eventId)).toBe(false);
    for (const kept of [recentSucceeded, oldPending, recentlyFailed, recentWithoutDeliveries]) expect(await exists('domain_events', kept.eventId)).toBe(true);
    // Inbound events: finished and past the window → gone; received/processing stay whatever their age.
    for (const gone of [processedOld, ignoredOld, failedOld, ...bulk]) expect(await exists('integration_events', gone)).toBe(false);
    for (const kept of [processedRecent, failedRecent, receivedOld, processingOld]) expect(await exists('integration_events', kept)).toBe(true);

    // The metric of rows pruned.
    const metrics = await t.request('GET', '/api/metrics');
    expect(metrics.body).toContain('junction_retention_pruned_rows_total{table="webhook_deliveries"} 2');
    expect(metrics.body).toContain('junction_retention_pruned_rows_total{table="integration_events"} 2503');
    expect(metrics.body).toContain('junction_retention_pruned_rows_total{table="domain_events"} 3');

    // A second run finds nothing more.
    expect(await t.app.get(RetentionService).pruneExpired()).toEqual({ webhook_deliveries: 0, integration_events: 0, domain_events: 0 });
  });

  it('leaves the run to the instance holding the advisory lock', async () => {
    const [old] = await inbound('processed', 40, 40);
    const other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1::bigint)', [RETENTION_LOCK_KEY]);
      expect(await t.app.get(RetentionService).pruneExpired()).toBeNull();
      expect(await exists('integration_events', old)).toBe(true);
      await other.query('SELECT pg_advisory_unlock($1::bigint)', [RETENTION_LOCK_KEY]);
      expect((await t.app.get(RetentionService).pruneExpired())?.integration_events).toBe(1);
    } finally {
      await other.end();
    }
  });
});
