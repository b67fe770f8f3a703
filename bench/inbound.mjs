// Inbound webhooks benchmark (issue 5, "Measure"): the BUILT app on scratch databases on 127.0.0.1:5432.
//
//   (a) ingest: POST /api/webhooks/lead.captured (X-Tenant-ID + X-API-Key, a unique email per request),
//       c=50, 10 s (+2 s warm-up), INBOUND_RATE_LIMIT/INBOUND_RATE_BURST at 1,000,000 so the limiter never
//       answers 429; once with APP_ROLE=api (processing off: ingest alone) and once with APP_ROLE=all
//       (the processor creates the contacts meanwhile), against the bare Fastify + pg baseline run in the
//       same process before and after. Goal: ≥ 0.6× the baseline's req/s with p99 < 50 ms.
//   (b) received → processed latency at 200 events/s for 10 s: a timer loop sends at a steady rate with
//       fetch; afterwards received_at / processed_at come from integration_events. Goal p99 < 1 s. Twice:
//       one APP_ROLE=all process (the default deployment), then APP_ROLE=api + a separate APP_ROLE=worker.
//   (c) backlog drain: 50,000 `received` lead.captured rows (distinct emails) inserted by SQL while no app
//       runs, then an APP_ROLE=worker app is started and timed until none is received/processing: events/s.
//   (d) statements per ingested + processed event, from an app started with bench/query-counter.mjs.
//   (e) a probe without the app: jsonb inserts/s over a pool of 10, plain vs with pg_notify() in the
//       statement as InboundService.receive does, and what the backends wait on (pg_stat_activity).
//
//   npm run build && node bench/inbound.mjs
//   BENCH_DURATION=3 BENCH_LATENCY_SECONDS=3 BENCH_DRAIN_EVENTS=2000 node bench/inbound.mjs      # quick
//   BENCH_INBOUND_PARTS=drain node bench/inbound.mjs
//
// Environment: BENCH_DURATION (s, ingest and baseline), BENCH_CONNECTIONS (50), BENCH_WARMUP (2),
// BENCH_INBOUND_ROLES (api,all), BENCH_LATENCY_RATE (events/s, 200), BENCH_LATENCY_SECONDS (10),
// BENCH_LATENCY_TOPOLOGIES (all,split),
// BENCH_DRAIN_EVENTS (50000), BENCH_DRAIN_WORKERS (1), BENCH_DRAIN_TIMEOUT (s, 900), BENCH_PROBE_SECONDS (5),
// BENCH_INBOUND_PARTS (ingest,latency,drain,queries,notify),
// BENCH_BASELINE_BRACKET=0, BENCH_PG_URL. The ingest runs also report the app's CPU use (from /proc) and what
// its PostgreSQL backends wait on (pg_stat_activity sampled every 50 ms). Each part gets its own scratch database, so no part sees
// another's backlog. The apps run with their defaults otherwise (DB_POOL_SIZE=10, INBOUND_POLL_INTERVAL_MS=2000).

import os from 'node:os';
import pg from 'pg';
import { api, buildSnapshot, cpuMeter, createWebhookApiKey, figures, formatCpu, formatWaits, percentiles, processCpuSeconds, schedSeconds, startWaitSampler, printQueryDelta, queryDelta, readQueryCounts, registerAccount, startApp, stopApp, withBaseline } from './crm-helpers.mjs';
import { SAMPLE_EVENT, SAMPLE_EVENT_BODY, createScratchDatabase, ensureBuilt, envInt, envSeconds, isMain, loadCheck, printTable, ratio, runAutocannon, sleep } from './lib.mjs';

/** The limiter is on, but out of reach. */
const UNLIMITED = { INBOUND_RATE_LIMIT: 1_000_000, INBOUND_RATE_BURST: 1_000_000 };

/**
 * A lead.captured body of about the size of the baseline's SAMPLE_EVENT: the contact fields the handler
 * reads, and SAMPLE_EVENT's extras (kept in custom_fields).
 */
export function leadBody(email) {
  const { data } = SAMPLE_EVENT;
  return JSON.stringify({
    email,
    name: `${data.firstName} ${data.lastName}`,
    phone: data.phone,
    company: data.company,
    source: 'website_form',
    utm_campaign: 'summer2025',
    tags: data.tags,
    address: data.address,
    custom: data.custom,
    occurred_at: SAMPLE_EVENT.occurredAt,
  });
}

async function withDatabase(prefix, run) {
  const database = await createScratchDatabase(prefix);
  const client = new pg.Client({ connectionString: database.url });
  client.on('error', (error) => console.error(`[bench] ${database.name}: ${error.message}`));
  try {
    await client.connect();
    return await run(database, client);
  } finally {
    await client.end().catch(() => undefined);
    await database.drop();
  }
}

/** An app of `role` on `database`, with a registered tenant and its inbound key: { app, tenantId, apiKey, token }. */
async function appWithKey(database, role, { countQueries = false, label = `app (APP_ROLE=${role})` } = {}) {
  const app = await startApp({ databaseUrl: database.url, env: { LOG_LEVEL: 'warn', APP_ROLE: role, ...UNLIMITED }, label, countQueries });
  try {
    const account = await registerAccount(app, `inbound-${role}`);
    const apiKey = await createWebhookApiKey(app, account.token);
    return { app, tenantId: account.tenantId, apiKey, token: account.token };
  } catch (error) {
    await stopApp(app);
    throw error;
  }
}

async function statusCounts(client) {
  const { rows } = await client.query('SELECT status, count(*)::int AS n FROM integration_events GROUP BY status');
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

/** Part (a) for one role. */
async function measureIngest(role, { duration, connections, warmup, log }) {
  return withDatabase(`junction_bench_ingest_${role}`, async (database, client) => {
    const { app, tenantId, apiKey } = await appWithKey(database, role);
    try {
      const runTag = Date.now().toString(36);
      let counter = 0;
      log(`  POST /api/webhooks/lead.captured, APP_ROLE=${role}, c=${connections}, ${duration} s after ${warmup} s warm-up (app pid ${app.pid})…`);
      const sampler = await startWaitSampler(database.url);
      const meter = cpuMeter(app.pid);
      const result = await runAutocannon({
        url: `${app.url}/webhooks/lead.captured`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': tenantId, 'x-api-key': apiKey },
        body: leadBody('placeholder@bench.example.com'),
        setupRequest: (request) => {
          counter += 1;
          request.body = leadBody(`lead.${runTag}.${counter}@bench.example.com`);
          return request;
        },
        connections,
        duration,
        warmup,
        title: `ingest APP_ROLE=${role}`,
      });
      result.appCpu = meter.stop();
      result.waits = await sampler.stop();
      const statuses = await statusCounts(client);
      return { role, result, statuses, stored: Object.values(statuses).reduce((a, b) => a + b, 0) };
    } finally {
      await stopApp(app);
    }
  });
}

/** Part (b): a steady `rate` of events for `seconds`, then received → processed from the database. */
async function measureLatency({ rate, seconds, topology = 'all', log }) {
  return withDatabase(`junction_bench_latency_${topology}`, async (database, client) => {
    // all: one APP_ROLE=all process takes the requests and processes them. split: an APP_ROLE=api process
    // takes them and a separate APP_ROLE=worker process (woken by the insert's NOTIFY) processes them.
    const { app, tenantId, apiKey } = await appWithKey(database, topology === 'split' ? 'api' : 'all');
    let worker;
    try {
      if (topology === 'split') worker = await startApp({ databaseUrl: database.url, env: { LOG_LEVEL: 'warn', APP_ROLE: 'worker' }, label: 'app (APP_ROLE=worker)' });
      // The worker has no HTTP to poll: give it time to LISTEN (its start-up drain finds nothing).
      if (worker) await sleep(3_000);
      const url = `${app.url}/webhooks/lead.captured`;
      const headers = { 'content-type': 'application/json', 'x-tenant-id': tenantId, 'x-api-key': apiKey };
      const runTag = Date.now().toString(36);
      const total = Math.round(rate * seconds);
      const responseMs = [];
      const statuses = {};
      let errors = 0;
      const inFlight = new Set();
      log(
        `  ${rate} events/s for ${seconds} s (${total} events) to ` +
          (worker ? `APP_ROLE=api (pid ${app.pid}), processed by APP_ROLE=worker (pid ${worker.pid})…` : `APP_ROLE=all (app pid ${app.pid})…`),
      );
      const send = (index) => {
        const started = performance.now();
        const promise = fetch(url, { method: 'POST', headers, body: leadBody(`latency.${runTag}.${index}@bench.example.com`) })
          .then(async (response) => {
            await response.arrayBuffer();
            statuses[response.status] = (statuses[response.status] ?? 0) + 1;
            responseMs.push(performance.now() - started);
          })
          .catch(() => {
            errors += 1;
          })
          .finally(() => inFlight.delete(promise));
        inFlight.add(promise);
      };
      // Timer loop: every ~2 ms, send whatever the schedule (rate × elapsed) says is due.
      const sampler = await startWaitSampler(database.url);
      const meter = cpuMeter(app.pid);
      const workerMeter = worker ? cpuMeter(worker.pid) : undefined;
      const start = performance.now();
      let sent = 0;
      let maxLagEvents = 0;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
        maxLagEvents = Math.max(maxLagEvents, due - sent);
        while (sent < due) send(sent++);
        await sleep(2);
      }
      const sendSeconds = (performance.now() - start) / 1000;
      await Promise.all([...inFlight]);

      // Wait for the processor to finish (processed_at is set in the handler's transaction).
      const deadline = Date.now() + 120_000;
      let counts = await statusCounts(client);
      while ((counts.received ?? 0) + (counts.processing ?? 0) > 0 && Date.now() < deadline) {
        await sleep(100);
        counts = await statusCounts(client);
      }
      const appCpu = meter.stop();
      const workerCpu = workerMeter?.stop();
      const waits = await sampler.stop();
      // Processing throughput while events kept arriving: processed before the last one was received.
      const during = (
        await client.query(
          `SELECT count(*) FILTER (WHERE processed_at <= (SELECT max(received_at) FROM integration_events))::int AS processed_while_sending,
                  extract(epoch FROM max(received_at) - min(received_at)) AS send_span_s,
                  extract(epoch FROM max(processed_at) - min(received_at)) AS total_span_s
             FROM integration_events`,
        )
      ).rows[0];
      const { rows } = await client.query(
        `SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms FROM integration_events WHERE processed_at IS NOT NULL ORDER BY 1`,
      );
      const latencies = rows.map((row) => Number(row.ms));
      return {
        rate,
        seconds,
        total,
        sendSeconds,
        achievedRate: total / sendSeconds,
        maxLagEvents,
        httpStatuses: statuses,
        httpErrors: errors,
        response: percentiles(responseMs),
        statuses: counts,
        latency: { ...percentiles(latencies), count: latencies.length },
        topology,
        appCpu,
        workerCpu,
        waits,
        processedWhileSending: during.processed_while_sending,
        processingRateWhileSending: during.processed_while_sending / Number(during.send_span_s),
        overallProcessingRate: total / Number(during.total_span_s),
      };
    } finally {
      await stopApp(worker);
      await stopApp(app);
    }
  });
}

/** Part (c): `count` received rows inserted by SQL with no app running, then an APP_ROLE=worker app drains them. */
async function measureDrain({ count, timeoutSeconds, workers = 1, log }) {
  return withDatabase('junction_bench_drain', async (database, client) => {
    // An API app creates the schema (migrations) and the tenant, then stops: the backlog waits in the table.
    const setup = await appWithKey(database, 'api');
    await stopApp(setup.app);
    const runTag = Date.now().toString(36);
    const insertStarted = performance.now();
    await client.query(
      `INSERT INTO integration_events (tenant_id, event_name, payload)
       SELECT $1, 'lead.captured', jsonb_build_object(
                'email', 'drain.' || $3 || '.' || g || '@bench.example.com',
                'name', (ARRAY['Ada Lovelace','Grace Hopper','Alan Turing','Linus Torvalds','Barbara Liskov'])[1 + g % 5],
                'phone', '+1 555 ' || lpad(g::text, 7, '0'),
                'company', (ARRAY['Globex','Initech','Umbrella','Hooli','Vandelay'])[1 + g % 5] || ' Ltd',
                'source', 'website_form',
                'utm_campaign', 'summer2025')
         FROM generate_series(1, $2::int) g`,
      [setup.tenantId, count, runTag],
    );
    await client.query('ANALYZE integration_events');
    log(`  ${count} received lead.captured rows inserted by SQL in ${((performance.now() - insertStarted) / 1000).toFixed(1)} s (no app running)`);

    const remaining = async () =>
      Number((await client.query(`SELECT count(*) AS n FROM integration_events WHERE status IN ('received', 'processing')`)).rows[0].n);
    // Progress counted as rows that left received/processing (a claimed batch counts when it finishes).
    const spawnAt = performance.now();
    let firstProgressAt;
    const workerList = [];
    let drainedAt;
    const samples = [];
    let cpuSeconds = 0;
    let schedFirst;
    let waits;
    try {
      for (let index = 0; index < workers; index++) {
        workerList.push(await startApp({ databaseUrl: database.url, env: { LOG_LEVEL: 'warn', APP_ROLE: 'worker' }, label: `app (APP_ROLE=worker #${index + 1})` }));
      }
      const sampler = await startWaitSampler(database.url, { intervalMs: 200 });
      log(`  worker pid${workers > 1 ? 's' : ''} ${workerList.map((worker) => worker.pid).join(', ')} started; waiting until no row is received/processing…`);
      const deadline = spawnAt + timeoutSeconds * 1000;
      let lastLog = performance.now();
      while (performance.now() < deadline) {
        const dead = workerList.find((worker) => worker.exitSignal.aborted);
        if (dead) throw new Error(`worker ${dead.pid} exited early\n${dead.output}`);
        const left = await remaining();
        const now = performance.now();
        samples.push({ t: (now - spawnAt) / 1000, left });
        if (left < count && firstProgressAt === undefined) firstProgressAt = now;
        if (left === 0) {
          drainedAt = now;
          break;
        }
        if (now - lastLog > 30_000) {
          log(`    ${((now - spawnAt) / 1000).toFixed(0)} s: ${left} left`);
          lastLog = now;
        }
        await sleep(200);
      }
      // CPU of the worker processes from spawn (start-up included) to drained, and the first one's scheduling.
      cpuSeconds = workerList.reduce((sum, worker) => sum + (processCpuSeconds(worker.pid) ?? 0), 0);
      const sched = schedSeconds(workerList[0].pid);
      if (sched) schedFirst = { onCpu: sched.onCpu / ((performance.now() - spawnAt) / 1000), waiting: sched.waiting / ((performance.now() - spawnAt) / 1000) };
      waits = await sampler.stop();
    } finally {
      for (const worker of workerList) await stopApp(worker);
    }
    const statuses = await statusCounts(client);
    const db = (
      await client.query(
        `SELECT min(processed_at) AS first, max(processed_at) AS last,
                extract(epoch FROM max(processed_at) - min(processed_at)) AS span_s
           FROM integration_events WHERE processed_at IS NOT NULL`,
      )
    ).rows[0];
    const contacts = Number((await client.query('SELECT count(*) AS n FROM contacts WHERE tenant_id = $1', [setup.tenantId])).rows[0].n);
    const events = Number((await client.query(`SELECT count(*) AS n FROM domain_events WHERE event_name = 'contact.created'`)).rows[0].n);
    return {
      count,
      drained: drainedAt !== undefined,
      wallSeconds: drainedAt !== undefined ? (drainedAt - spawnAt) / 1000 : undefined,
      fromFirstProgressSeconds: drainedAt !== undefined && firstProgressAt !== undefined ? (drainedAt - firstProgressAt) / 1000 : undefined,
      processedSpanSeconds: Number(db.span_s),
      statuses,
      contactsCreated: contacts,
      contactCreatedEvents: events,
      workers,
      workerCpuCores: drainedAt !== undefined ? cpuSeconds / ((drainedAt - spawnAt) / 1000) : undefined,
      workerSched: schedFirst,
      waits,
      samples,
    };
  });
}

/** Part (d): statements per event (ingest + processing) from an APP_ROLE=all app with the query counter. */
async function measureQueries({ log }) {
  return withDatabase('junction_bench_inbound_queries', async (database, client) => {
    const { app, tenantId, apiKey } = await appWithKey(database, 'all', { countQueries: true, label: 'app (query counter)' });
    try {
      const send = (email) =>
        api(app, 'POST', '/webhooks/lead.captured', { headers: { 'x-tenant-id': tenantId, 'x-api-key': apiKey }, body: leadBody(email), expect: [202] });
      const waitProcessed = async () => {
        for (let i = 0; i < 300; i++) {
          const counts = await statusCounts(client);
          if ((counts.received ?? 0) + (counts.processing ?? 0) === 0) return;
          await sleep(50);
        }
        throw new Error('events not processed within 15 s');
      };
      await send(`warm.${Date.now()}@bench.example.com`);
      await waitProcessed();
      const n = 20;
      const before = await readQueryCounts(app);
      // Sequential and each processed before the next: the per-event cost without batching.
      for (let i = 0; i < n; i++) {
        await send(`queries.${Date.now()}.${i}@bench.example.com`);
        await waitProcessed();
      }
      const delta = queryDelta(before, await readQueryCounts(app), n);
      log(`  counted over ${n} events, each sent and processed before the next`);
      return { n, delta };
    } finally {
      await stopApp(app);
    }
  });
}

/**
 * Part (e), no app involved: what pg_notify() in the insert costs by itself. The same pg.Pool of 10 as the
 * baseline and the app, `connections` concurrent loops, `seconds` each: a plain jsonb insert, then the
 * insert with pg_notify() in the same statement (the shape of InboundService.receive), then plain again.
 */
async function measureNotifyProbe({ seconds, connections, log }) {
  return withDatabase('junction_bench_notify_probe', async (database, client) => {
    await client.query('CREATE TABLE probe_events (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    // A connection ended by DROP DATABASE … WITH (FORCE) while the pool closes must not crash the benchmark.
    let poolEnded = false;
    pool.on('error', (error) => {
      if (!poolEnded) log(`  probe pool: ${error.message}`);
    });
    const variants = [
      { name: 'plain INSERT', sql: 'INSERT INTO probe_events (payload) VALUES ($1)' },
      {
        name: 'INSERT … RETURNING + pg_notify()',
        sql: `WITH inserted AS (INSERT INTO probe_events (payload) VALUES ($1) RETURNING id) SELECT i.id, pg_notify('junction_bench_probe', '') FROM inserted i`,
      },
      { name: 'plain INSERT (again)', sql: 'INSERT INTO probe_events (payload) VALUES ($1)' },
    ];
    const runs = [];
    try {
      for (const variant of variants) {
        log(`  probe: ${variant.name}, ${connections} concurrent loops over a pool of 10, ${seconds} s…`);
        const sampler = await startWaitSampler(database.url);
        let done = 0;
        const end = performance.now() + seconds * 1000;
        await Promise.all(
          Array.from({ length: connections }, async () => {
            while (performance.now() < end) {
              await pool.query(variant.sql, [SAMPLE_EVENT_BODY]);
              done += 1;
            }
          }),
        );
        runs.push({ name: variant.name, perSecond: done / seconds, waits: await sampler.stop() });
      }
    } finally {
      poolEnded = true;
      await pool.end();
    }
    return { seconds, connections, runs };
  });
}

export async function measureInbound({
  duration = envSeconds('BENCH_DURATION', 10),
  connections = envInt('BENCH_CONNECTIONS', 50),
  warmup = envSeconds('BENCH_WARMUP', 2),
  roles = (process.env.BENCH_INBOUND_ROLES ?? 'api,all').split(',').map((role) => role.trim()),
  latencyRate = envInt('BENCH_LATENCY_RATE', 200),
  latencySeconds = envSeconds('BENCH_LATENCY_SECONDS', 10),
  latencyTopologies = (process.env.BENCH_LATENCY_TOPOLOGIES ?? 'all,split').split(',').map((topology) => topology.trim()),
  drainCount = envInt('BENCH_DRAIN_EVENTS', 50_000),
  drainWorkers = envInt('BENCH_DRAIN_WORKERS', 1),
  probeSeconds = envSeconds('BENCH_PROBE_SECONDS', 5),
  drainTimeout = envSeconds('BENCH_DRAIN_TIMEOUT', 900),
  parts = (process.env.BENCH_INBOUND_PARTS ?? 'ingest,latency,drain,queries,notify').split(',').map((part) => part.trim()),
  log = console.log,
} = {}) {
  ensureBuilt();
  const out = { parts, failures: [], bodyBytes: Buffer.byteLength(leadBody('lead.xxxxxxxx.1000@bench.example.com')), baselineBodyBytes: Buffer.byteLength(SAMPLE_EVENT_BODY) };
  // A part that fails is recorded and the others still run, so one broken part does not lose the rest.
  const attempt = async (part, run) => {
    if (!parts.includes(part)) return undefined;
    try {
      return await run();
    } catch (error) {
      log(`  part "${part}" failed: ${error.stack ?? error}`);
      out.failures.push({ part, error: String(error.message ?? error).slice(0, 2000) });
      return undefined;
    }
  };
  out.ingest = await attempt('ingest', async () => {
    const { before, after, reference, result } = await withBaseline(async () => {
      const runs = [];
      for (const role of roles) runs.push(await measureIngest(role, { duration, connections, warmup, log }));
      return runs;
    }, log);
    return { baselineBefore: before, baselineAfter: after, baselineReqPerSec: reference, runs: result };
  });
  out.latencyRuns = [];
  for (const topology of latencyTopologies) {
    const run = await attempt('latency', () => measureLatency({ rate: latencyRate, seconds: latencySeconds, topology, log }));
    if (run) out.latencyRuns.push(run);
  }
  // The headline figure: the single APP_ROLE=all process, as deployed by default.
  out.latency = out.latencyRuns.find((run) => run.topology === 'all') ?? out.latencyRuns[0];
  out.drain = await attempt('drain', () => measureDrain({ count: drainCount, timeoutSeconds: drainTimeout, workers: drainWorkers, log }));
  out.queries = await attempt('queries', () => measureQueries({ log }));
  out.notify = await attempt('notify', () => measureNotifyProbe({ seconds: probeSeconds, connections, log }));
  return out;
}

export function reportInbound(out) {
  for (const failure of out.failures ?? []) console.log(`\n!! part "${failure.part}" FAILED: ${failure.error.split('\n')[0]}`);
  if (out.ingest) {
    const i = out.ingest;
    console.log(`\n== (a) ingest POST /api/webhooks/lead.captured vs the bare Fastify + pg baseline, same run`);
    console.log(`   (bodies: lead.captured ${out.bodyBytes} B with a unique email per request; baseline SAMPLE_EVENT ${out.baselineBodyBytes} B)`);
    printTable([
      { run: 'baseline before', 'req/s': i.baselineBefore.reqPerSec, 'p50 ms': i.baselineBefore.p50, 'p99 ms': i.baselineBefore.p99, errors: i.baselineBefore.errors, non2xx: i.baselineBefore.non2xx },
      ...(i.baselineAfter ? [{ run: 'baseline after', 'req/s': i.baselineAfter.reqPerSec, 'p50 ms': i.baselineAfter.p50, 'p99 ms': i.baselineAfter.p99, errors: i.baselineAfter.errors, non2xx: i.baselineAfter.non2xx }] : []),
      ...i.runs.map((run) => ({
        run: `ingest APP_ROLE=${run.role}`,
        'req/s': run.result.reqPerSec,
        'p50 ms': run.result.p50,
        'p99 ms': run.result.p99,
        errors: run.result.errors,
        non2xx: run.result.non2xx,
      })),
    ]);
    for (const run of i.runs) {
      const r = run.result;
      const x = r.reqPerSec / i.baselineReqPerSec;
      console.log(
        `ingest APP_ROLE=${run.role}: ${r.reqPerSec.toFixed(0)} req/s, p99 ${r.p99} ms, ${ratio(r.reqPerSec, i.baselineReqPerSec)} the baseline ` +
          `(${i.baselineReqPerSec.toFixed(0)} req/s${i.baselineAfter ? ', mean of before/after' : ''}) — goal ≥ 0.6× with p99 < 50 ms: ${x >= 0.6 && r.p99 < 50 ? 'MET' : 'NOT MET'}`,
      );
      console.log(
        `  status codes ${JSON.stringify(Object.fromEntries(Object.entries(r.statusCodes ?? {}).map(([code, v]) => [code, v.count])))}; ` +
          `rows stored (warm-up included) ${run.stored}, by status at the end ${JSON.stringify(run.statuses)}` +
          (run.role === 'api' ? ' (APP_ROLE=api: processing off, ingest alone)' : ' (APP_ROLE=all: the processor ran alongside)'),
      );
      console.log(`  app process: ${formatCpu(r.appCpu)} (${os.cpus().length} cores)`);
      console.log(`  its PostgreSQL backends (mean number per sample of pg_stat_activity): ${formatWaits(r.waits)}`);
    }
  }
  for (const l of out.latencyRuns ?? []) {
    const where = l.topology === 'split' ? 'APP_ROLE=api + a separate APP_ROLE=worker process' : 'one APP_ROLE=all process';
    console.log(`\n== (b) received → processed at ${l.rate} events/s for ${l.seconds} s (${where})`);
    console.log(
      `sent ${l.total} events in ${l.sendSeconds.toFixed(2)} s (${l.achievedRate.toFixed(0)}/s achieved, worst catch-up burst ${l.maxLagEvents}); ` +
        `HTTP ${JSON.stringify(l.httpStatuses)}${l.httpErrors ? `, ${l.httpErrors} errors` : ''}; ingest response p50 ${l.response.p50.toFixed(1)} ms, p99 ${l.response.p99.toFixed(1)} ms`,
    );
    console.log(`statuses at the end ${JSON.stringify(l.statuses)}`);
    printTable([{ figure: 'processed_at - received_at', count: l.latency.count, 'p50 ms': l.latency.p50, 'p95 ms': l.latency.p95, 'p99 ms': l.latency.p99, 'max ms': l.latency.max }]);
    console.log(`p99 ${l.latency.p99.toFixed(0)} ms — goal p99 < 1 s: ${l.latency.p99 < 1000 ? 'MET' : 'NOT MET'}`);
    console.log(
      `  processing kept up at ${l.processingRateWhileSending.toFixed(0)} events/s while events arrived (${l.processedWhileSending} processed before the last was received), ` +
        `${l.overallProcessingRate.toFixed(0)}/s from the first received to the last processed`,
    );
    console.log('  (processed_at is now() in the handler\'s transaction, i.e. its start; the commit follows a few ms later)');
    console.log(`  ${l.topology === 'split' ? 'api' : 'app'} process from the first send to all processed: ${formatCpu(l.appCpu)}`);
    if (l.workerCpu) console.log(`  worker process over the same time: ${formatCpu(l.workerCpu)}`);
    console.log(`  PostgreSQL backends (mean number per sample): ${formatWaits(l.waits)}`);
  }
  if (out.drain) {
    const d = out.drain;
    console.log(`\n== (c) backlog drain: ${d.count} received lead.captured rows, APP_ROLE=worker × ${d.workers}`);
    if (!d.drained) console.log(`NOT DRAINED within the timeout; statuses ${JSON.stringify(d.statuses)}`);
    else {
      printTable([
        { measure: 'wall, worker spawn → none left (incl. start-up)', seconds: d.wallSeconds, 'events/s': d.count / d.wallSeconds },
        { measure: 'wall, first batch done → none left', seconds: d.fromFirstProgressSeconds, 'events/s': d.count / d.fromFirstProgressSeconds },
        { measure: 'database, first → last processed_at', seconds: d.processedSpanSeconds, 'events/s': d.count / d.processedSpanSeconds },
      ]);
      console.log(`statuses ${JSON.stringify(d.statuses)}; ${d.contactsCreated} contacts created, ${d.contactCreatedEvents} contact.created domain events`);
      console.log(
        `${d.workers} worker process${d.workers > 1 ? 'es' : ''}: ${d.workerCpuCores?.toFixed(2)} cores (of ${os.cpus().length}) from spawn to drained` +
          (d.workerSched ? `; worker #1's event-loop thread on a CPU ${Math.round(d.workerSched.onCpu * 100)}% of the time, queued for a CPU ${Math.round(d.workerSched.waiting * 100)}%` : ''),
      );
      console.log(`  PostgreSQL backends of the database (mean number per sample): ${formatWaits(d.waits)}`);
      console.log(
        '  (events are applied in batches of up to 25 per transaction, up to 8 batch transactions at a time per process on a backlog — BATCH and CONCURRENCY in inbound-processor.ts)',
      );
    }
  }
  if (out.queries) {
    console.log('\n== (d) SQL statements per lead.captured event, ingest + processing (APP_ROLE=all, bench/query-counter.mjs)');
    printQueryDelta(out.queries.delta, 'event');
  }
  if (out.notify) {
    const n = out.notify;
    console.log(`\n== (e) probe without the app: jsonb inserts/s from this process, pool of 10, ${n.connections} concurrent loops, ${n.seconds} s each`);
    printTable(n.runs.map((run) => ({ statement: run.name, 'inserts/s': run.perSecond, 'backends waiting on (mean per sample)': formatWaits(run.waits, 3) })));
    console.log('  "Lock:object" is the lock on the NOTIFY queue that a notifying transaction holds through its commit: such commits run one at a time, so no group commit.');
  }
}

export function inboundFigures(out) {
  return {
    bodyBytes: out.bodyBytes,
    baselineBodyBytes: out.baselineBodyBytes,
    ingest: out.ingest && {
      baselineBefore: figures(out.ingest.baselineBefore),
      baselineAfter: figures(out.ingest.baselineAfter),
      baselineReqPerSec: out.ingest.baselineReqPerSec,
      runs: out.ingest.runs.map((run) => ({ ...run, result: figures(run.result), ratio: run.result.reqPerSec / out.ingest.baselineReqPerSec })),
    },
    latency: out.latencyRuns,
    drain: out.drain && { ...out.drain, samples: undefined, eventsPerSecond: out.drain.wallSeconds ? out.drain.count / out.drain.wallSeconds : undefined },
    notify: out.notify,
    failures: out.failures,
    queries: out.queries && { n: out.queries.n, total: out.queries.delta.total, perEvent: out.queries.delta.perUnit, statements: out.queries.delta.rows },
  };
}

if (isMain(import.meta.url)) {
  const before = loadCheck('start');
  console.log(`inbound webhooks benchmark (node ${process.version}, ${before.cores} cores)`);
  console.log(before.text);
  const build = await buildSnapshot();
  console.log(`app: a snapshot of dist/ (newest file ${build.builtAt.toISOString()}) run as node dist/src/main.js`);
  const out = await measureInbound();
  reportInbound(out);
  const problems = inboundProblems(out);
  if (problems.length) {
    console.error(`\nproblems:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
  console.log(`\n${loadCheck('end').text} (includes the benchmark's own processes)`);
  if (before.busy) console.log('NOTE: the machine was busy before the run started (see the load average): treat the figures as lower bounds.');
}

/** Summary rows for bench/run-all.mjs. */
export function inboundSummaryRows(out) {
  const rows = [];
  for (const run of out.ingest?.runs ?? []) {
    rows.push({ figure: `inbound ingest APP_ROLE=${run.role} req/s`, value: Math.round(run.result.reqPerSec) });
    rows.push({ figure: `inbound ingest APP_ROLE=${run.role} p99 ms`, value: run.result.p99 });
    rows.push({ figure: `inbound ingest APP_ROLE=${run.role} ÷ baseline (goal ≥ 0.6)`, value: Number((run.result.reqPerSec / out.ingest.baselineReqPerSec).toFixed(2)) });
  }
  for (const run of out.latencyRuns ?? []) {
    const label = run.topology === 'split' ? 'api + worker' : 'APP_ROLE=all';
    rows.push({ figure: `inbound received → processed p50 ms at ${run.rate}/s (${label})`, value: Math.round(run.latency.p50) });
    rows.push({ figure: `inbound received → processed p99 ms at ${run.rate}/s (${label}; goal < 1000)`, value: Math.round(run.latency.p99) });
  }
  if (out.drain) rows.push({ figure: `inbound backlog drain events/s (${out.drain.count}, spawn → none left)`, value: out.drain.wallSeconds ? Math.round(out.drain.count / out.drain.wallSeconds) : 'not drained' });
  if (out.queries) rows.push({ figure: 'SQL statements per inbound lead.captured (ingest + processing)', value: Number(out.queries.delta.perUnit.toFixed(2)) });
  return rows;
}

/** Errors, non-2xx answers or an unfinished drain: figures not to record. */
export function inboundProblems(out) {
  const problems = (out.failures ?? []).map((failure) => `inbound part "${failure.part}" failed: ${failure.error.split('\n')[0]}`);
  const check = (label, result) => {
    if (result && (result.errors || result.timeouts || result.non2xx)) problems.push(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  };
  if (out.ingest) {
    check('inbound baseline (before)', out.ingest.baselineBefore);
    check('inbound baseline (after)', out.ingest.baselineAfter);
    for (const run of out.ingest.runs) check(`inbound ingest APP_ROLE=${run.role}`, run.result);
  }
  for (const run of out.latencyRuns ?? []) {
    if (run.httpErrors || Object.keys(run.httpStatuses).some((code) => code !== '202')) {
      problems.push(`inbound latency (${run.topology}): HTTP ${JSON.stringify(run.httpStatuses)}, ${run.httpErrors} errors`);
    }
  }
  if (out.drain && !out.drain.drained) problems.push(`inbound drain: not drained within the timeout (${JSON.stringify(out.drain.statuses)})`);
  return problems;
}
