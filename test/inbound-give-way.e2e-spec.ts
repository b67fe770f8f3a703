import { setTimeout as sleep } from 'node:timers/promises';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpActivity } from '../src/common/http/http-activity.js';
import { registerAccount, startTestApp, type RegisteredAccount, type TestApp } from './support/test-app.js';

const BACKLOG = 8000;

/**
 * An APP_ROLE=all instance shares its event loop between the API and the inbound processor: while it is
 * answering requests, the processor applies its backlog one batch at a time, and runs all its lanes once
 * the API is idle.
 */
describe('inbound processing gives way to the API on the same instance', () => {
  let t: TestApp;
  let account: RegisteredAccount;

  beforeAll(async () => {
    t = await startTestApp({ INBOUND_POLL_INTERVAL_MS: '200' });
    account = await registerAccount(t, 'give-way');
  });

  afterAll(async () => {
    await t?.close();
  });

  /** The app's batch transactions under way now: its sessions in a transaction that has locked or written rows. */
  const batchesUnderWay = async (): Promise<number> =>
    (
      await t.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'junction-crm' AND backend_xid IS NOT NULL`,
      )
    )[0].n;

  const withStatus = async (status: string): Promise<number> =>
    (await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM integration_events WHERE tenant_id = $1 AND status = $2`, [account.tenantId, status]))[0].n;
  const received = () => withStatus('received');
  const processed = () => withStatus('processed');

  /** The most batch transactions seen at once, sampled until `until` says stop. */
  const sampleConcurrency = async (until: () => Promise<boolean> | boolean): Promise<number> => {
    let most = 0;
    while (!(await until())) most = Math.max(most, await batchesUnderWay());
    return most;
  };

  /** A contact create whose body is still coming: in flight from Fastify's onRequest until `body` ends. */
  const holdRequest = () => {
    const body = new PassThrough();
    const held = t.app.inject({
      method: 'POST',
      url: '/api/contacts',
      headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
      payload: body,
    });
    return { body, held };
  };

  /** Inserts `count` received lead.captured events for `prefix` emails and wakes the processor. */
  const queueBacklog = async (prefix: string, count: number): Promise<void> => {
    await t.sql(
      `INSERT INTO integration_events (tenant_id, event_name, payload, received_at)
       SELECT $1, 'lead.captured', jsonb_build_object('email', $3 || n || '@example.com'), now() FROM generate_series(1, $2) AS n`,
      [account.tenantId, count, prefix],
    );
    await t.sql(`SELECT pg_notify('junction_inbound_events', '')`);
  };

  /** Holds the app's event loop busy (2 ms of work per turn, never idle) until the returned function is called. */
  const saturateEventLoop = (): (() => void) => {
    let stopped = false;
    const turn = () => {
      const until = performance.now() + 2;
      while (performance.now() < until) {
        // busy
      }
      if (!stopped) setImmediate(turn);
    };
    setImmediate(turn);
    return () => {
      stopped = true;
    };
  };

  it('one batch at a time while a request is in flight; every lane once none is', async () => {
    const { body, held } = holdRequest();
    const activity = t.app.get(HttpActivity);
    expect(activity.busy).toBe(true);

    await queueBacklog('give-way-', BACKLOG);

    // While it is held: progress, one batch at a time.
    const heldUntil = Date.now() + 1000;
    const whileHeld = await sampleConcurrency(() => Date.now() > heldUntil);
    const leftWhenReleased = await received();
    expect(whileHeld).toBe(1);
    expect(leftWhenReleased).toBeLessThan(BACKLOG);
    expect(leftWhenReleased, 'the backlog outlasts the held request, so the lanes have something left to join').toBeGreaterThan(1000);

    body.end(JSON.stringify({ email: 'held@example.com' }));
    expect((await held).statusCode).toBe(201);
    // Once the API is idle, the other lanes join in.
    const afterwards = await sampleConcurrency(async () => (await received()) === 0);
    expect(afterwards).toBeGreaterThan(1);
    const statuses = await t.sql<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM integration_events WHERE tenant_id = $1 GROUP BY status`,
      [account.tenantId],
    );
    expect(statuses).toEqual([{ status: 'processed', n: BACKLOG }]);
  });

  /** Holds `count` requests in flight at once (each ends its body when the returned function is called). */
  const holdRequests = (count: number) => {
    const requests = Array.from({ length: count }, () => holdRequest());
    return async () => {
      requests.forEach(({ body }, index) => body.end(JSON.stringify({ email: `held-${index}-${Date.now()}@example.com` })));
      return Promise.all(requests.map(({ held }) => held.then((response) => response.statusCode)));
    };
  };

  // Either sign of heavy load: the loop is never idle, or requests queue (40 in flight, the loop mostly idle).
  it.each([
    { load: 'the event loop is never idle', held: 1, saturate: true },
    { load: '40 requests are in flight at once', held: 40, saturate: false },
  ])('one batch per 100 ms while $load; the backlog still moves', async ({ held, saturate }) => {
    const release = holdRequests(held);
    const stopSaturating = saturate ? saturateEventLoop() : () => undefined;
    let processedMeanwhile: number;
    let windowMs: number;
    try {
      // The load is there, and known (a window of at least 100 ms measured it), before the events are.
      await vi.waitUntil(() => t.app.get(HttpActivity).loaded, { timeout: 2000, interval: 20 });
      const processedBefore = await processed();
      const started = performance.now();
      await queueBacklog(`loaded-${held}-`, 3000);
      await sleep(2000);
      processedMeanwhile = (await processed()) - processedBefore;
      // 2 s and a little more: what the queries around it took on a busy machine counts too.
      windowMs = performance.now() - started;
    } finally {
      stopSaturating();
    }
    // One batch of 25 per 100 ms at most (the first of a drain runs at once, one more may end as it is read);
    // back to back they would be several times more.
    expect(processedMeanwhile).toBeGreaterThan(0);
    expect(processedMeanwhile).toBeLessThanOrEqual(25 * (Math.floor(windowMs / 100) + 2));

    expect(new Set(await release())).toEqual(new Set([201]));
    const deadline = Date.now() + 60_000;
    while ((await received()) > 0 && Date.now() < deadline) await sleep(100);
    expect(await received()).toBe(0);
  });
});
