// Outbound webhooks: what the delivery worker of the BUILT app does to a local receiver.
//
//   node bench/outbound.mjs
//   BENCH_DELIVERIES=20000 BENCH_LATENCY_SECONDS=30 node bench/outbound.mjs
//   WEBHOOK_MAX_CONCURRENCY=200 node bench/outbound.mjs      # app settings pass through to the app process
//
// Processes (each stopped by its own PID): the app (`node dist/src/main.js`, NODE_ENV=production,
// LOG_LEVEL=warn unless BENCH_LOG_LEVEL) on a scratch database on 127.0.0.1:5432 (BENCH_PG_URL), and a
// receiver (this file with --receiver: a bare node:http server answering 200 "ok") so that receiving does not
// share the app's event loop nor this process's. Each scenario uses a tenant of its own.
//
//   (a) sustained deliveries/s with 1, 10 and 100 subscriptions: BENCH_DELIVERIES (10,000) deliveries are
//       inserted DIRECTLY by SQL (domain_events rows + one webhook_deliveries row per subscription, in one
//       transaction that ends with the worker's NOTIFY), which isolates the delivery worker from the API;
//       timed from that COMMIT to the receiver's last request, and to the table showing every row succeeded.
//       Meanwhile an API probe (GET /api/contacts?limit=1, one at a time, 10 ms apart) shows what an API caller
//       of the same instance waits while the worker drains the backlog (api p50/p99/max ms). Where the CPU
//       went meanwhile: the app's, the receiver's, PostgreSQL's (the postmaster and its children) and the
//       machine's (/proc/stat, every core), and the machine's CPU time per delivery (cpu µs/delivery: on 2 cores,
//       3,000 deliveries/s leave at most 667 µs for everything a delivery costs here).
//   (b) event → receiver latency at BENCH_LATENCY_RATE (100) contact creates/s through the API for
//       BENCH_LATENCY_SECONDS (10) s, 1 subscription: receive time (receiver clock) − payload occurred_at.
//   (c) one contact created through the API, fanned out to BENCH_FANOUT_SUBSCRIPTIONS (1,000) subscriptions:
//       time from the POST to the last request at the receiver and to every row succeeded; BENCH_FANOUT_RUNS (3) runs.
//   (d) peak RSS of the app: VmRSS sampled every 50 ms per scenario, and VmHWM (the kernel's high-water mark).
//
// The baseline (bench/baseline-ingest.mjs) runs in the same run for reference (BENCH_SKIP_BASELINE=1 skips it).
// Figures are also written as JSON to bench/results/ (git-ignored).

import http from 'node:http';

// ---------------------------------------------------------------------------------------------------------------
// Receiver mode: `node bench/outbound.mjs --receiver` (PORT from env). Paths are /<group>/<n>.
// GET /__stats?group=g → {count, distinct, firstAt, lastAt}; add &latencies=1 for receive − occurred_at (ms) of each.

if (process.argv[2] === '--receiver') {
  const groups = new Map();
  const groupOf = (name) => {
    let group = groups.get(name);
    if (!group) groups.set(name, (group = { count: 0, seen: new Set(), firstAt: null, lastAt: null, latencies: [], bad: 0 }));
    return group;
  };
  const server = http.createServer((request, response) => {
    const url = request.url ?? '/';
    if (url.startsWith('/__stats')) {
      const query = new URL(url, 'http://x').searchParams;
      const group = groupOf(query.get('group') ?? '');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          count: group.count,
          distinct: group.seen.size,
          firstAt: group.firstAt,
          lastAt: group.lastAt,
          bad: group.bad,
          latencies: query.get('latencies') ? group.latencies : undefined,
        }),
      );
      return;
    }
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const now = Date.now();
      const group = groupOf(url.split('/')[1] ?? '');
      group.count += 1;
      group.firstAt ??= now;
      group.lastAt = now;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        group.seen.add(`${url} ${body.event_id}`);
        group.latencies.push(now - Date.parse(body.occurred_at));
      } catch {
        group.bad += 1;
      }
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  const close = () => server.close(() => process.exit(0)) && server.closeAllConnections();
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const { randomBytes } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const pg = (await import('pg')).default;
  const lib = await import('./lib.mjs');
  const { baselineRow, measureBaseline } = await import('./baseline-ingest.mjs');
  const { machineCpuSeconds, parentPid, printQueryDelta, processCpuSeconds, queryDelta, readQueryCounts, serverCpuSeconds } = await import('./crm-helpers.mjs');
  const { pathToFileURL } = await import('node:url');
  const { BENCH_DIR, ROOT_DIR, createScratchDatabase, envInt, envSeconds, freePort, loadCheck, printTable, sleep, spawnApp, spawnNode, waitForHttp } = lib;

  const DELIVERIES = envInt('BENCH_DELIVERIES', 10_000);
  const LATENCY_RATE = envInt('BENCH_LATENCY_RATE', 100);
  const LATENCY_SECONDS = envSeconds('BENCH_LATENCY_SECONDS', 10);
  const FANOUT_SUBSCRIPTIONS = envInt('BENCH_FANOUT_SUBSCRIPTIONS', 1000);
  const FANOUT_RUNS = envInt('BENCH_FANOUT_RUNS', 3);
  const THROUGHPUT_SUBSCRIPTIONS = (process.env.BENCH_THROUGHPUT_SUBSCRIPTIONS ?? '1,10,100').split(',').map(Number);
  const API_PROBE_INTERVAL_MS = 10;
  const SCENARIO_TIMEOUT_MS = envSeconds('BENCH_SCENARIO_TIMEOUT', 180) * 1000;
  // Diagnostic: preload bench/query-counter.mjs and print the SQL statements per delivery of each (a) run.
  const COUNT_QUERIES = process.env.BENCH_COUNT_QUERIES === '1';
  const GOALS = { deliveriesPerSec: 1000, p50: 25, p99: 250, fanoutSeconds: 5, rssMB: 250 };

  const startedAt = new Date();
  const startLoad = loadCheck('start');
  console.log(`Outbound webhooks benchmark — ${startedAt.toISOString()} — node ${process.version}, ${os.cpus().length} cores; ${startLoad.text}\n`);

  const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN);

  // ---- processes -------------------------------------------------------------------------------------------
  const database = await createScratchDatabase('junction_bench_outbound');
  let app;
  let receiver;
  let rss;
  let pool;
  const cleanup = async () => {
    rss?.stop();
    await pool?.end().catch(() => undefined);
    pool = null;
    await app?.stop();
    await receiver?.stop();
    await database.drop();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  const results = { scenarios: {} };
  try {
    const receiverPort = await freePort();
    receiver = spawnNode(fileURLToPath(import.meta.url), ['--receiver'], { env: { PORT: receiverPort } });
    const receiverUrl = `http://127.0.0.1:${receiverPort}`;
    await waitForHttp(`${receiverUrl}/__stats`, 10_000, { abortSignal: receiver.exitSignal });

    const logLevel = process.env.BENCH_LOG_LEVEL ?? 'warn';
    const queryCountFile = COUNT_QUERIES ? path.join(os.tmpdir(), `junction-bench-outbound-queries-${process.pid}.json`) : undefined;
    // Started as users start it (the app sets its own heap cap); BENCH_APP_NODE_OPTIONS adds flags (e.g. --trace-gc with BENCH_ECHO_APP=1).
    const appNodeOptions = [process.env.NODE_OPTIONS, process.env.BENCH_APP_NODE_OPTIONS].filter(Boolean).join(' ');
    const counterEnv = COUNT_QUERIES
      ? {
          NODE_OPTIONS: `${appNodeOptions} --import=${pathToFileURL(path.join(BENCH_DIR, 'query-counter.mjs')).href}`.trim(),
          BENCH_QUERY_COUNT_FILE: queryCountFile,
        }
      : appNodeOptions
        ? { NODE_OPTIONS: appNodeOptions }
        : {};
    app = await spawnApp({
      env: {
        ...counterEnv,
        DATABASE_URL: database.url,
        NODE_ENV: 'production',
        SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        LOG_LEVEL: logLevel,
      },
      echo: process.env.BENCH_ECHO_APP === '1',
    });
    await waitForHttp(`${app.url}/health`, 60_000, { abortSignal: app.exitSignal }).catch((error) => {
      throw new Error(`app did not start: ${error.message}\n${app.output}`);
    });
    app.queryCountFile = queryCountFile;
    app.label = 'app';
    const appSettings = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('WEBHOOK_') || key === 'DB_POOL_SIZE'));
    console.log(`app pid ${app.pid} on ${app.url} (NODE_ENV=production, LOG_LEVEL=${logLevel}${appNodeOptions ? `, NODE_OPTIONS=${appNodeOptions}` : ''}${Object.keys(appSettings).length ? `, ${JSON.stringify(appSettings)}` : ', webhook settings at their defaults'}); receiver pid ${receiver.pid}\n`);

    rss = rssSampler(app.pid);
    await sleep(1000);
    const memoryAtStart = rss.read();
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    pool.on('error', (error) => console.error(`[outbound] idle database connection: ${error.message}`));

    // ---- API helpers ---------------------------------------------------------------------------------------
    const api = async (method, route, { token, body } = {}) => {
      const headers = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${app.url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, body: text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
    };
    const register = async (name) => {
      const response = await api('POST', '/auth/register', {
        body: { email: `${name}-${randomBytes(4).toString('hex')}@example.com`, password: 'correct horse battery staple', name: `Admin of ${name}`, tenant_name: name },
      });
      if (response.status !== 201) throw new Error(`register: ${response.status} ${JSON.stringify(response.body)}`);
      return { token: response.body.token, tenantId: response.body.tenant.id };
    };
    const subscribe = async (account, group, count) => {
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const index = next++;
          const response = await api('POST', '/webhooks/subscriptions', {
            token: account.token,
            body: { event_name: 'contact.created', target_url: `${receiverUrl}/${group}/${index}` },
          });
          if (response.status !== 201) throw new Error(`subscribe: ${response.status} ${JSON.stringify(response.body)}`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
    };
    let contactSeq = 0;
    const createContact = (account) =>
      api('POST', '/contacts', { token: account.token, body: { first_name: 'Ada', last_name: 'Lovelace', email: `ada-${contactSeq++}-${randomBytes(3).toString('hex')}@example.com`, company: 'Analytical Engines Ltd' } });
    const stats = async (group, latencies = false) => (await fetch(`${receiverUrl}/__stats?group=${group}${latencies ? '&latencies=1' : ''}`)).json();
    const tableCounts = async (tenantId) =>
      (
        await pool.query(
          `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE status = 'failed')::int AS failed,
                  count(*)::int AS total FROM webhook_deliveries WHERE tenant_id = $1`,
          [tenantId],
        )
      ).rows[0];
    /**
     * What an API caller meets while the worker drains a backlog in the same process (APP_ROLE=all): GET
     * /api/contacts?limit=1 one after another, every API_PROBE_INTERVAL_MS, until stopped; the latency (ms) of
     * each answered 200, and how many were not.
     */
    const apiProbe = (account) => {
      let stopped = false;
      const result = (async () => {
        const latencies = [];
        let errors = 0;
        while (!stopped) {
          const started = performance.now();
          const ok = await api('GET', '/contacts?limit=1', { token: account.token }).then(
            (response) => response.status === 200,
            () => false,
          );
          if (ok) latencies.push(Math.round((performance.now() - started) * 10) / 10);
          else errors += 1;
          await sleep(API_PROBE_INTERVAL_MS);
        }
        return { latencies, errors };
      })();
      return { result, stop: () => (stopped = true) };
    };
    /** Polls the receiver until `expected` distinct (path, event) pairs arrived, then the table until all succeeded. */
    const waitDelivered = async (group, tenantId, expected, label) => {
      const deadline = Date.now() + SCENARIO_TIMEOUT_MS;
      let seen;
      while ((seen = await stats(group)).distinct < expected) {
        if (Date.now() > deadline) throw new Error(`${label}: receiver has ${seen.distinct}/${expected} after ${SCENARIO_TIMEOUT_MS / 1000} s`);
        await sleep(20);
      }
      let counts;
      while ((counts = await tableCounts(tenantId)).succeeded + counts.failed < expected) {
        if (Date.now() > deadline) throw new Error(`${label}: table has ${counts.succeeded} succeeded/${expected} after ${SCENARIO_TIMEOUT_MS / 1000} s`);
        await sleep(20);
      }
      return { receiver: seen, table: counts, tableDoneAt: Date.now() };
    };

    // A realistic contact.created body: the catalog's example (GET /api/webhooks/event-types).
    const setupStarted = performance.now();
    const accounts = {};
    for (const name of [...THROUGHPUT_SUBSCRIPTIONS.map((n) => `a${n}`), 'lat', 'fan']) accounts[name] = await register(name);
    const memoryAfterRegister = rss.read();
    const catalog = await api('GET', '/webhooks/event-types', { token: accounts.lat.token });
    const catalogItems = Array.isArray(catalog.body) ? catalog.body : (catalog.body.data ?? catalog.body.items ?? []);
    const example = catalogItems.find((item) => item.name === 'contact.created')?.example;
    if (!example) throw new Error(`no contact.created example in GET /api/webhooks/event-types: ${JSON.stringify(catalog.body).slice(0, 300)}`);
    for (const n of THROUGHPUT_SUBSCRIPTIONS) await subscribe(accounts[`a${n}`], `a${n}`, n);
    await subscribe(accounts.lat, 'lat', 1);
    await subscribe(accounts.fan, 'fan', FANOUT_SUBSCRIPTIONS);
    const memoryAfterSetup = rss.read();
    console.log(`setup: ${Object.keys(accounts).length} tenants, ${THROUGHPUT_SUBSCRIPTIONS.reduce((a, b) => a + b, 0) + 1 + FANOUT_SUBSCRIPTIONS} subscriptions through the API in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s; ` +
        `app RSS 1 s after start ${memoryAtStart.rss.toFixed(0)} MB (anon ${memoryAtStart.anon.toFixed(0)}, file ${memoryAtStart.file.toFixed(0)}), ` +
        `after the ${Object.keys(accounts).length} registrations ${memoryAfterRegister.rss.toFixed(0)} MB, after setup ${memoryAfterSetup.rss.toFixed(0)} MB (anon ${memoryAfterSetup.anon.toFixed(0)})\n`,
    );

    const cpu = () => processCpuSeconds(app.pid);
    const receiverCpu = () => processCpuSeconds(receiver.pid);
    const postmasterPid = parentPid((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const pgCpu = () => serverCpuSeconds(postmasterPid);

    // ---- (a) sustained deliveries/s --------------------------------------------------------------------------
    console.log(`== (a) sustained deliveries/s: ${DELIVERIES} deliveries inserted by SQL per run (isolates the worker)`);
    const throughputRows = [];
    for (const n of THROUGHPUT_SUBSCRIPTIONS) {
      const group = `a${n}`;
      const account = accounts[group];
      const events = Math.ceil(DELIVERIES / n);
      const expected = events * n;
      const client = await pool.connect();
      let committedAt;
      try {
        await client.query('BEGIN');
        await client.query(
          `WITH ev AS (
             INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
             SELECT g.id, $1::uuid, 'contact.created',
                    $2::jsonb || jsonb_build_object('event_id', g.id, 'tenant_id', ($1::uuid)::text, 'contact_id', gen_random_uuid(),
                                                    'occurred_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                    now()
               FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, $3)) g
             RETURNING id)
           INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name)
           SELECT $1::uuid, s.id, ev.id, 'contact.created' FROM ev CROSS JOIN webhook_subscriptions s WHERE s.tenant_id = $1::uuid`,
          [account.tenantId, JSON.stringify(example), events],
        );
        await client.query(`SELECT pg_notify('junction_webhook_deliveries', '')`);
        rss.mark(`a${n}`);
        await client.query('COMMIT');
        committedAt = Date.now();
      } finally {
        client.release();
      }
      const cpuBefore = cpu();
      const receiverCpuBefore = receiverCpu();
      const pgCpuBefore = pgCpu();
      const machineBefore = machineCpuSeconds();
      const queriesBefore = COUNT_QUERIES ? await readQueryCounts(app) : null;
      const probe = apiProbe(account);
      const done = await waitDelivered(group, account.tenantId, expected, `(a) ${n} subscriptions`).finally(() => probe.stop());
      const { latencies: probed, errors: probeErrors } = await probe.result;
      const apiLatencies = probed.sort((a, b) => a - b);
      if (COUNT_QUERIES) printQueryDelta(queryDelta(queriesBefore, await readQueryCounts(app), expected), 'delivery');
      const toReceiver = (done.receiver.lastAt - committedAt) / 1000;
      const toTable = (done.tableDoneAt - committedAt) / 1000;
      const appCpu = cpu() - cpuBefore;
      const machineCpu = machineCpuSeconds() - machineBefore;
      const peak = rss.peak(`a${n}`);
      const maxAttempts = (await pool.query(`SELECT max(attempts)::int AS m FROM webhook_deliveries WHERE tenant_id = $1`, [account.tenantId])).rows[0].m;
      const row = {
        subscriptions: n,
        deliveries: expected,
        'to receiver s': toReceiver,
        'to table s': toTable,
        'deliveries/s': expected / toTable,
        'recv/s': expected / toReceiver,
        'app cpu %': (100 * appCpu) / toTable,
        'receiver cpu %': (100 * (receiverCpu() - receiverCpuBefore)) / toTable,
        'pg cpu %': (100 * (pgCpu() - pgCpuBefore)) / toTable,
        'machine cpu %': (100 * machineCpu) / toTable,
        'cpu µs/delivery': (1e6 * machineCpu) / expected,
        'duplicates': done.receiver.count - done.receiver.distinct,
        failed: done.table.failed,
        'max attempts': maxAttempts,
        'peak rss MB': peak,
        'api p50 ms': percentile(apiLatencies, 50),
        'api p99 ms': percentile(apiLatencies, 99),
        'api max ms': apiLatencies.at(-1),
        'api errors': probeErrors,
      };
      throughputRows.push(row);
      printTable([row]);
    }
    results.scenarios.throughput = throughputRows;

    // ---- (b) latency at a steady create rate ----------------------------------------------------------------
    const latencyCount = Math.round(LATENCY_RATE * LATENCY_SECONDS);
    console.log(`\n== (b) event → receiver latency: ${latencyCount} contacts at ${LATENCY_RATE}/s through the API, 1 subscription`);
    rss.mark('latency');
    const latencyCpuBefore = cpu();
    const apiLatencies = [];
    const apiErrors = [];
    const inFlight = new Set();
    const t0 = performance.now();
    for (let i = 0; i < latencyCount; i++) {
      const due = t0 + (i * 1000) / LATENCY_RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const sent = performance.now();
      const request = createContact(accounts.lat)
        .then((response) => {
          if (response.status !== 201) apiErrors.push(response.status);
          apiLatencies.push(performance.now() - sent);
        })
        .catch((error) => apiErrors.push(error.message))
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    const offeredSeconds = (performance.now() - t0) / 1000;
    await Promise.all(inFlight);
    const latencyDone = await waitDelivered('lat', accounts.lat.tenantId, latencyCount - apiErrors.length, '(b) latency');
    const latencyStats = await stats('lat', true);
    const latencyCpu = cpu() - latencyCpuBefore;
    const latencyElapsed = (performance.now() - t0) / 1000;
    const sortedLatency = [...latencyStats.latencies].sort((a, b) => a - b);
    const sortedApi = [...apiLatencies].sort((a, b) => a - b);
    const latencyRow = {
      events: latencyStats.distinct,
      'offered/s': (latencyCount - 1) / offeredSeconds,
      'p50 ms': percentile(sortedLatency, 50),
      'p90 ms': percentile(sortedLatency, 90),
      'p99 ms': percentile(sortedLatency, 99),
      'max ms': sortedLatency.at(-1),
      'POST p50 ms': percentile(sortedApi, 50),
      'POST p99 ms': percentile(sortedApi, 99),
      'api errors': apiErrors.length,
      duplicates: latencyDone.receiver.count - latencyDone.receiver.distinct,
      'app cpu %': (100 * latencyCpu) / latencyElapsed,
      'peak rss MB': rss.peak('latency'),
    };
    printTable([latencyRow]);
    results.scenarios.latency = latencyRow;

    // ---- (c) one event to 1,000 subscriptions ---------------------------------------------------------------
    console.log(`\n== (c) one contact created through the API, fanned out to ${FANOUT_SUBSCRIPTIONS} subscriptions (${FANOUT_RUNS} runs)`);
    const fanoutRows = [];
    rss.mark('fanout');
    for (let run = 1; run <= FANOUT_RUNS; run++) {
      const before = await stats('fan');
      const tableBefore = await tableCounts(accounts.fan.tenantId);
      const cpuBefore = cpu();
      const posted = Date.now();
      const response = await createContact(accounts.fan);
      const postMs = Date.now() - posted;
      if (response.status !== 201) throw new Error(`(c) create contact: ${response.status} ${JSON.stringify(response.body)}`);
      const done = await waitDelivered('fan', accounts.fan.tenantId, before.distinct + FANOUT_SUBSCRIPTIONS, '(c) fan-out');
      const row = {
        run,
        subscriptions: FANOUT_SUBSCRIPTIONS,
        'POST ms': postMs,
        'first after event ms': null,
        'all at receiver s': (done.receiver.lastAt - posted) / 1000,
        'all succeeded s': (done.tableDoneAt - posted) / 1000,
        'deliveries/s': FANOUT_SUBSCRIPTIONS / ((done.tableDoneAt - posted) / 1000),
        'app cpu s': cpu() - cpuBefore,
        failed: done.table.failed - tableBefore.failed,
      };
      const latencies = (await stats('fan', true)).latencies.slice(before.count).sort((a, b) => a - b);
      row['first after event ms'] = latencies[0];
      fanoutRows.push(row);
      printTable([row]);
      await sleep(500);
    }
    results.scenarios.fanout = fanoutRows;
    const fanoutPeak = rss.peak('fanout');

    // ---- (d) memory ----------------------------------------------------------------------------------------
    const memory = rss.read();
    rss.stop();
    const scenePeaks = Object.fromEntries(Object.entries(rss.peaks()).map(([name, mb]) => [name, Math.round(mb)]));
    results.scenarios.memory = { vmHwmMB: memory.hwm, vmRssNowMB: memory.rss, rssAnonNowMB: memory.anon, atStart: memoryAtStart, afterRegistrations: memoryAfterRegister, afterSetup: memoryAfterSetup, peaksBySceneMB: scenePeaks };
    console.log(
      `\n== (d) app memory: VmHWM ${memory.hwm.toFixed(0)} MB (peak RSS of the process); VmRSS 1 s after start ${memoryAtStart.rss.toFixed(0)} MB, ` +
        `after setup ${memoryAfterSetup.rss.toFixed(0)} MB, now ${memory.rss.toFixed(0)} MB (anon ${memory.anon.toFixed(0)}, file ${memory.file.toFixed(0)}); ` +
        `sampled peak per scenario (MB) ${JSON.stringify(scenePeaks)}`,
    );

    const endLoad = loadCheck('end of the outbound scenarios', { warn: false });
    await pool.end();
    pool = null;
    await app.stop();
    await receiver.stop();
    const appExit = await app.exited;

    // ---- baseline -------------------------------------------------------------------------------------------
    let baseline = null;
    if (!process.env.BENCH_SKIP_BASELINE) {
      console.log('\n== baseline ingest (bare Fastify + pg, POST /ingest), for reference');
      baseline = await measureBaseline();
      printTable([baselineRow(baseline)]);
    }

    // ---- summary --------------------------------------------------------------------------------------------
    const fanoutMedian = [...fanoutRows].map((row) => row['all succeeded s']).sort((a, b) => a - b)[Math.floor(fanoutRows.length / 2)];
    const verdict = (ok) => (ok ? 'met' : 'MISSED');
    const summary = [
      ...throughputRows.map((row) => ({
        figure: `(a) deliveries/s, ${row.subscriptions} subscription${row.subscriptions === 1 ? '' : 's'}`,
        value: Math.round(row['deliveries/s']),
        goal: `>= ${GOALS.deliveriesPerSec}`,
        verdict: verdict(row['deliveries/s'] >= GOALS.deliveriesPerSec),
      })),
      { figure: `(b) event → receiver p50 ms @ ${LATENCY_RATE}/s`, value: latencyRow['p50 ms'], goal: `< ${GOALS.p50}`, verdict: verdict(latencyRow['p50 ms'] < GOALS.p50) },
      { figure: `(b) event → receiver p99 ms @ ${LATENCY_RATE}/s`, value: latencyRow['p99 ms'], goal: `< ${GOALS.p99}`, verdict: verdict(latencyRow['p99 ms'] < GOALS.p99) },
      {
        figure: `(c) 1 event → ${FANOUT_SUBSCRIPTIONS} subs, all succeeded s (median of ${FANOUT_RUNS})`,
        value: fanoutMedian,
        goal: `< ${GOALS.fanoutSeconds}`,
        verdict: verdict(fanoutMedian < GOALS.fanoutSeconds),
      },
      { figure: '(d) app peak RSS MB (VmHWM)', value: memory.hwm, goal: `< ${GOALS.rssMB}`, verdict: verdict(memory.hwm < GOALS.rssMB) },
    ];
    if (baseline) {
      summary.push({ figure: 'baseline ingest req/s (reference)', value: Math.round(baseline.reqPerSec), goal: '', verdict: '' });
      summary.push({ figure: 'baseline ingest p99 ms (reference)', value: baseline.p99, goal: '', verdict: '' });
    }
    console.log('\n== summary');
    printTable(summary);
    console.log(`\n${startLoad.text}; ${endLoad.text}`);
    if (appExit.code !== 0) console.error(`app exited with ${JSON.stringify(appExit)} after SIGTERM`);

    const resultsDir = path.join(BENCH_DIR, 'results');
    await mkdir(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `outbound-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    const { raw: _raw, ...baselineFigures } = baseline ?? {};
    await writeFile(
      file,
      `${JSON.stringify({ startedAt, machine: { node: process.version, cores: os.cpus().length }, load: [startLoad, endLoad], appSettings, ...results, baseline: baseline ? baselineFigures : null, summary }, null, 2)}\n`,
    );
    console.log(`written: ${path.relative(ROOT_DIR, file)}`);
    if (summary.some((row) => row.verdict === 'MISSED')) process.exitCode = 2;
  } catch (error) {
    console.error(`[outbound] failed: ${error?.stack ?? error}`);
    if (app) console.error(`[outbound] app output (tail):\n${app.output.slice(-4000)}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }

  // ---- /proc helpers -----------------------------------------------------------------------------------------

  /** Samples VmRSS every 50 ms; peak(name) is the highest sample since mark(name). */
  function rssSampler(pid) {
    const read = () => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
        return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
      } catch {
        return { rss: NaN, hwm: NaN, anon: NaN, file: NaN };
      }
    };
    const peaks = new Map();
    const finished = {};
    const sample = () => {
      const { rss: now } = read();
      for (const [name, value] of peaks) if (!(value >= now)) peaks.set(name, now);
    };
    const timer = setInterval(sample, 50);
    timer.unref();
    return {
      read,
      mark(name) {
        peaks.set(name, read().rss);
      },
      peak(name) {
        sample();
        const value = peaks.get(name);
        peaks.delete(name);
        finished[name] = value;
        return value;
      },
      peaks: () => ({ ...finished }),
      stop: () => clearInterval(timer),
    };
  }
}
