import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, registerTenant, startAppProcess, stopAllAppProcesses, type Account, type AppProcess } from './support/app-process.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { sleep } from './support/helpers.js';

/**
 * Inbound processing with several app processes (the BUILT app, `npm run build` first) on one database:
 * PostgreSQL is the only coordinator (batches claimed FOR UPDATE SKIP LOCKED in the transaction that applies them), so every
 * inbound event is processed exactly once, and a SIGKILLed instance's rows are taken over and finish.
 */

// The per-tenant limiter (in memory, per instance) must not get in the way of the flood.
const APP_ENV = { INBOUND_RATE_LIMIT: '1000000', INBOUND_RATE_BURST: '1000000', INBOUND_POLL_INTERVAL_MS: '200' };
const SENDERS = 50;


interface Sender extends Account {
  apiKey: string;
}

async function senderOn(app: AppProcess, name: string): Promise<Sender> {
  const account = await registerTenant(app.url, name);
  const key = await callApi(app.url, 'POST', '/tenants/current/webhook-api-key', { token: account.token });
  if (key.status !== 200) throw new Error(`webhook-api-key failed: ${key.status} ${JSON.stringify(key.body)}`);
  return { ...account, apiKey: key.body.api_key };
}

/**
 * POSTs lead.captured for each email, SENDERS requests at a time; `appFor(i)` picks the instance for email i.
 * Returns the stored event ids, in order. Every answer must be 202.
 */
async function sendLeads(appFor: (index: number) => AppProcess, sender: Sender, emails: string[]): Promise<string[]> {
  const ids: string[] = new Array(emails.length);
  let next = 0;
  const worker = async () => {
    while (next < emails.length) {
      const index = next++;
      const response = await fetch(`${appFor(index).url}/webhooks/lead.captured`, {
        method: 'POST',
        headers: { 'X-Tenant-ID': sender.tenantId, 'X-API-Key': sender.apiKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: emails[index], source: 'website_form', utm_campaign: 'load', metadata: { index } }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      if (response.status !== 202) throw new Error(`lead ${index} → ${response.status} ${text}`);
      ids[index] = (JSON.parse(text) as { id: string }).id;
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, worker));
  return ids;
}

/** The instance's own count of inbound events it processed, from its Prometheus metrics. */
async function processedBy(app: AppProcess): Promise<number> {
  const { body } = await callApi<string>(app.url, 'GET', '/metrics');
  const match = /^junction_inbound_events_processed_total\{outcome="processed"\} (\d+)/m.exec(body);
  return match ? Number(match[1]) : 0;
}

describe('inbound webhooks: several app processes on one database', () => {
  let database: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('error', () => undefined);
  });

  afterAll(async () => {
    await stopAllAppProcesses();
    await pool?.end();
    await database?.drop();
  });

  const sql = async <T extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<T[]> => (await pool.query<T>(text, values)).rows;

  const statusCounts = async (tenantId: string): Promise<Record<string, number>> => {
    const rows = await sql<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM integration_events WHERE tenant_id = $1 GROUP BY status', [tenantId]);
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  };

  const waitForProcessed = async (tenantId: string, count: number, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await statusCounts(tenantId);
      if ((counts.processed ?? 0) >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${JSON.stringify(counts)} after ${timeoutMs} ms (waiting for ${count} processed)`);
      await sleep(50);
    }
  };

  /** Exactly one contact per email, each created once (one contact.created), matching the events' results. */
  const expectOneContactPerEmail = async (tenantId: string, emails: string[]): Promise<void> => {
    const contacts = await sql<{ id: string; email: string }>('SELECT id, lower(email) AS email FROM contacts WHERE tenant_id = $1', [tenantId]);
    expect(contacts).toHaveLength(emails.length);
    expect(new Set(contacts.map((c) => c.email))).toEqual(new Set(emails.map((e) => e.toLowerCase())));

    const created = await sql<{ contact_id: string }>(
      `SELECT payload->>'contact_id' AS contact_id FROM domain_events WHERE tenant_id = $1 AND event_name = 'contact.created'`,
      [tenantId],
    );
    expect(created).toHaveLength(emails.length);
    expect(new Set(created.map((e) => e.contact_id))).toEqual(new Set(contacts.map((c) => c.id)));
    const [{ updated }] = await sql<{ updated: number }>(
      `SELECT count(*)::int AS updated FROM domain_events WHERE tenant_id = $1 AND event_name = 'contact.updated'`,
      [tenantId],
    );
    expect(updated).toBe(0);

    const results = await sql<{ contact_id: string; action: string }>(
      `SELECT result->>'contact_id' AS contact_id, result->>'action' AS action FROM integration_events WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(results.every((r) => r.action === 'created')).toBe(true);
    expect(new Set(results.map((r) => r.contact_id))).toEqual(new Set(contacts.map((c) => c.id)));
  };

  it('processes each of 2,000 inbound events sent to two instances exactly once', { timeout: 90_000 }, async () => {
    const EVENTS = 2000;
    const apps = await Promise.all([startAppProcess({ databaseUrl: database.url, env: APP_ENV }), startAppProcess({ databaseUrl: database.url, env: APP_ENV })]);
    const sender = await senderOn(apps[0], 'multi-inbound');
    const run = randomBytes(3).toString('hex');
    const emails = Array.from({ length: EVENTS }, (_, i) => `lead-${run}-${i}@example.com`);

    const started = Date.now();
    // Even leads through the first instance, odd ones through the second.
    const ids = await sendLeads((index) => apps[index % 2], sender, emails);
    const sentAt = Date.now();
    expect(new Set(ids).size).toBe(EVENTS);
    await waitForProcessed(sender.tenantId, EVENTS, 60_000);
    const processedAt = Date.now();
    // A little longer, so a late second processing would show.
    await sleep(1_000);

    expect(await statusCounts(sender.tenantId)).toEqual({ processed: EVENTS });
    const [rows] = await sql<{ total: number; once: number; with_time: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE attempts = 1)::int AS once, count(processed_at)::int AS with_time
         FROM integration_events WHERE tenant_id = $1`,
      [sender.tenantId],
    );
    expect(rows).toEqual({ total: EVENTS, once: EVENTS, with_time: EVENTS });
    await expectOneContactPerEmail(sender.tenantId, emails);

    // Both instances took part, and their own counters add up to exactly one processing per event.
    const byInstance = await Promise.all(apps.map(processedBy));
    expect(byInstance[0] + byInstance[1]).toBe(EVENTS);
    expect(byInstance[0]).toBeGreaterThan(0);
    expect(byInstance[1]).toBeGreaterThan(0);

    console.warn(
      `[inbound-multi-instance] ${EVENTS} leads sent in ${((sentAt - started) / 1000).toFixed(1)} s; all processed ` +
        `${((processedAt - started) / 1000).toFixed(1)} s after the first send; processed by instance: ${byInstance.join(' + ')}`,
    );
    await Promise.all(apps.map((app) => app.stop()));
  });

  it('a SIGKILLed instance\'s batch is rolled back and taken over at once, one contact per email', { timeout: 90_000 }, async () => {
    const EVENTS = 1000;
    // The backlog: stored through an HTTP-only instance, so nothing processes it yet.
    const ingest = await startAppProcess({ databaseUrl: database.url, env: { ...APP_ENV, APP_ROLE: 'api' } });
    const sender = await senderOn(ingest, 'crash-inbound');
    const run = randomBytes(3).toString('hex');
    const emails = Array.from({ length: EVENTS }, (_, i) => `crash-${run}-${i}@example.com`);
    await sendLeads(() => ingest, sender, emails);
    expect(await statusCounts(sender.tenantId)).toEqual({ received: EVENTS });

    // One worker (its peer is not running) starts on the backlog and is SIGKILLed mid-batch.
    const doomed = await startAppProcess({ databaseUrl: database.url, env: APP_ENV });
    await waitForProcessed(sender.tenantId, 100, 30_000);
    doomed.kill('SIGKILL');
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // Its batches under way died with its connections: rolled back, claims included. Nothing is left claimed
    // ("processing"), and every committed event has exactly its one contact.
    await sleep(500);
    const atKill = await statusCounts(sender.tenantId);
    const processedAtKill = atKill.processed ?? 0;
    expect(processedAtKill).toBeGreaterThanOrEqual(100);
    expect(processedAtKill).toBeLessThan(EVENTS);
    expect(atKill).toEqual({ processed: processedAtKill, received: EVENTS - processedAtKill });
    const [{ contacts }] = await sql<{ contacts: number }>('SELECT count(*)::int AS contacts FROM contacts WHERE tenant_id = $1', [sender.tenantId]);
    expect(contacts).toBe(processedAtKill);

    // Another instance takes the rest at once (no lease to wait out) and applies each event once.
    const survivor = await startAppProcess({ databaseUrl: database.url, env: APP_ENV });
    await waitForProcessed(sender.tenantId, EVENTS, 30_000);
    await sleep(500);

    expect(await statusCounts(sender.tenantId)).toEqual({ processed: EVENTS });
    const [{ retried }] = await sql<{ retried: number }>('SELECT count(*)::int AS retried FROM integration_events WHERE tenant_id = $1 AND attempts <> 1', [
      sender.tenantId,
    ]);
    expect(retried).toBe(0);
    await expectOneContactPerEmail(sender.tenantId, emails);
    expect(await processedBy(survivor)).toBe(EVENTS - processedAtKill);

    console.warn(`[inbound-multi-instance] SIGKILL after ${processedAtKill} of ${EVENTS} processed; the survivor processed ${await processedBy(survivor)}`);
    await Promise.all([survivor.stop(), ingest.stop()]);
  });
});
