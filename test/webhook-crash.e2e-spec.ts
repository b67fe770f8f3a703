import { createHmac } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContacts, createSubscription, registerTenant, startAppProcess, stopAllAppProcesses, type AppProcess } from './support/app-process.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';
import { sleep } from './support/helpers.js';

/**
 * Crash safety of the outbox: the built app as a child process is SIGKILLed while deliveries are in flight;
 * a new process on the same database must deliver every event (at least once; a copy sent again carries
 * the same webhook-id).
 *
 * Rows the killed process had claimed stay leased for DeliveryWorker.leaseSeconds = ceil(2 × WEBHOOK_TIMEOUT_MS /
 * 1000) + a margin (15 s), i.e. 19 s with the 2 s timeout used here, before the new process may take them
 * over; the whole test takes about 30–40 s.
 */

const CONTACTS = 500;
const RECEIVER_DELAY_MS = 100;
const HOOK = '/crash';
const APP_ENV = {
  // The lease is ceil(2 × timeout / 1000) + 15 s: a small timeout gives a short takeover (19 s), yet one that a
  // 100 ms answer on a loaded CI machine does not hit. Should it, the retry comes after 1 s.
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_RETRY_SCHEDULE: '1,1,1,1,1',
  // 3 in flight x 100 ms answers ≤ 30 deliveries/s: creating 500 contacts is faster, so deliveries are still
  // running when all 500 exist, even on a loaded CI machine.
  WEBHOOK_MAX_CONCURRENCY_PER_SUBSCRIPTION: '3',
  WEBHOOK_POLL_INTERVAL_MS: '250',
};


function distinctEvents(received: ReceivedWebhook[]): Set<string> {
  return new Set(received.filter((r) => r.path === HOOK).map((r) => String(r.body?.event_id)));
}

describe('outbound webhooks: crash safety (SIGKILL mid-delivery, built app as a child process)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let receiver: WebhookReceiver;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('error', () => undefined);
    receiver = await new WebhookReceiver().start();
    receiver.respond(HOOK, () => ({ status: 200, delayMs: RECEIVER_DELAY_MS }));
  });

  afterAll(async () => {
    await stopAllAppProcesses();
    await receiver?.stop();
    await pool?.end();
    await database?.drop();
  });

  const sql = async <T extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<T[]> => (await pool.query<T>(text, values)).rows;

  it('delivers every one of 500 events after the app is SIGKILLed mid-delivery and started again', { timeout: 150_000 }, async () => {
    const started = Date.now();
    const first = await startAppProcess({ databaseUrl: database.url, env: APP_ENV });
    apps.push(first);
    const admin = await registerTenant(first.url, 'crash');
    const subscription = await createSubscription(first.url, admin.token, 'contact.created', receiver.url(HOOK));

    const contactIds = await createContacts(first.url, admin.token, CONTACTS, { concurrency: 20, prefix: 'crash' });
    const createdAt = Date.now();
    const seenWhenCreated = distinctEvents(receiver.received).size;

    // Let deliveries run a little, then kill while some (not all) events have reached the receiver. The kill
    // follows a request's arrival within a millisecond or so, so that request is in flight (its answer comes
    // 100 ms later) and its row is claimed (leased) with no outcome written.
    await receiver.waitFor((received) => distinctEvents(received).size >= Math.max(seenWhenCreated + 1, 150), 30_000);
    first.kill('SIGKILL');
    const exit = await first.exited;
    const killedAt = Date.now();
    const seenBeforeKill = distinctEvents(receiver.received);
    const requestsBeforeKill = receiver.on(HOOK).length;
    expect(exit.signal).toBe('SIGKILL');
    expect(seenBeforeKill.size, 'the receiver had already seen every event before the kill: nothing was in flight').toBeLessThan(CONTACTS);
    expect(seenBeforeKill.size).toBeGreaterThan(0);

    // What the killed process left behind: rows it claimed (leased) whose outcome it never wrote, and rows not yet
    // tried. A leased row's next_attempt_at is the end of its lease (≥ 19 s ahead at the claim); a row put back
    // for a free slot has now(), a retry 1 s (the schedule above): 5 s tells them apart.
    const [left] = await sql<{ pending: number; leased: number; succeeded: number }>(
      `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
              count(*) FILTER (WHERE status = 'pending' AND next_attempt_at > now() + interval '5 seconds')::int AS leased,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded
         FROM webhook_deliveries`,
    );
    expect(left.pending, 'deliveries were still pending when the process was killed').toBeGreaterThan(0);
    expect(left.leased, 'the process was killed holding claimed (leased) deliveries').toBeGreaterThan(0);
    const leasedEvents = (
      await sql<{ event_id: string }>(`SELECT event_id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at > now() + interval '5 seconds'`)
    ).map((row) => row.event_id);

    const second = await startAppProcess({ databaseUrl: database.url, env: APP_ENV });
    apps.push(second);
    // Not-yet-claimed rows go at once; the leased ones only after their lease (≈ 17 s after the claim). The events
    // the killed process had in flight may already be at the receiver, so wait for the table too: every row
    // succeeded (outcomes are written in batches shortly after the answers).
    await receiver.waitFor((received) => distinctEvents(received).size >= CONTACTS, 80_000);
    const allReceivedAt = Date.now();
    const deadline = killedAt + 85_000;
    let succeeded = 0;
    while (Date.now() < deadline) {
      [{ succeeded }] = await sql<{ succeeded: number }>(`SELECT count(*)::int AS succeeded FROM webhook_deliveries WHERE status = 'succeeded'`);
      if (succeeded >= CONTACTS) break;
      await sleep(250);
    }
    const allSucceededAt = Date.now();
    // A late duplicate would show up here.
    await sleep(500);

    // The database: exactly one event and one delivery per contact, all delivered.
    const events = await sql<{ id: string; contact_id: string }>(
      `SELECT id, payload->>'contact_id' AS contact_id FROM domain_events WHERE tenant_id = $1 AND event_name = 'contact.created'`,
      [admin.tenantId],
    );
    expect(events).toHaveLength(CONTACTS);
    expect(new Set(events.map((e) => e.contact_id))).toEqual(new Set(contactIds));
    const deliveries = await sql<{ event_id: string; status: string; subscription_id: string }>(`SELECT event_id, status, subscription_id FROM webhook_deliveries`);
    expect(deliveries).toHaveLength(CONTACTS);
    expect(new Set(deliveries.map((d) => d.event_id))).toEqual(new Set(events.map((e) => e.id)));
    expect(deliveries.every((d) => d.subscription_id === subscription.id)).toBe(true);
    expect(deliveries.filter((d) => d.status !== 'succeeded')).toEqual([]);

    // The receiver: every event at least once; every copy of an event carries the first copy's webhook-id.
    const byEvent = new Map<string, ReceivedWebhook[]>();
    for (const request of receiver.on(HOOK)) {
      const id = String(request.body?.event_id);
      byEvent.set(id, [...(byEvent.get(id) ?? []), request]);
    }
    expect(new Set(byEvent.keys())).toEqual(new Set(events.map((e) => e.id)));
    let duplicates = 0;
    for (const [eventId, copies] of byEvent) {
      duplicates += copies.length - 1;
      const firstId = copies[0].headers['webhook-id'];
      expect(firstId).toBe(eventId);
      for (const copy of copies) {
        expect(copy.headers['webhook-id']).toBe(firstId);
        expect(copy.headers['x-webhook-id']).toBe(firstId);
        expect(copy.headers['x-webhook-signature']).toBe(createHmac('sha256', subscription.secret).update(copy.rawBody).digest('hex'));
      }
    }
    // Every duplicate is a redelivery of an event the killed process had sent without recording the outcome
    // (or, on a very slow machine, the retry of an attempt that timed out, which the attempt log shows).
    const sentAgain = [...byEvent].filter(([, copies]) => copies.length > 1).map(([id]) => id);
    const retried = new Set(
      (
        await sql<{ event_id: string }>(
          `SELECT DISTINCT d.event_id FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE a.error_code IS NOT NULL`,
        )
      ).map((row) => row.event_id),
    );
    expect(sentAgain.filter((id) => !seenBeforeKill.has(id) && !retried.has(id))).toEqual([]);
    // The rows the killed process held were taken over by the new one once their lease ran out.
    for (const id of leasedEvents) expect(byEvent.get(id)!.some((copy) => copy.receivedAt > killedAt), `event ${id} sent after the restart`).toBe(true);

    console.warn(
      `[crash] ${CONTACTS} contacts created in ${((createdAt - started) / 1000).toFixed(1)} s from start; killed with ${seenBeforeKill.size} events seen ` +
        `(${requestsBeforeKill} requests), ${left.pending} pending of which ${left.leased} leased; every event received ` +
        `${((allReceivedAt - killedAt) / 1000).toFixed(1)} s and every delivery succeeded ${((allSucceededAt - killedAt) / 1000).toFixed(1)} s after the kill; ` +
        `${duplicates} duplicate(s) (${sentAgain.length} events sent twice or more)`,
    );
  });
});
