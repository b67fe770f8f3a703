// Diagnostic: where the app's CPU goes on one hot path, from a V8 CPU profile taken in the app process
// (bench/cpu-profiler.mjs preloaded) over a steady-state window of autocannon load. Not part of run-all.
//
//   node bench/profile.mjs contacts     # POST /api/contacts, unique emails, c=50
//   node bench/profile.mjs ingest       # POST /api/webhooks/lead.captured, APP_ROLE=api, c=50
//   node bench/profile.mjs list         # GET /api/contacts?q=qzxv (a trigram-index query), c=10
//   node bench/profile.mjs drain        # the inbound processor on a backlog of received lead.captured rows (APP_ROLE=all)
//   node bench/profile.mjs deliveries   # the delivery worker on a backlog for 10 subscriptions to a local receiver
//   BENCH_PROFILE_SECONDS=15 BENCH_PROFILE_KEEP=/tmp/app.cpuprofile node bench/profile.mjs contacts
//   BENCH_PROFILE_ROLE=all node bench/profile.mjs ingest   # the app's APP_ROLE (default: api for ingest, all otherwise)
//
// Prints self time by package (node_modules/<name>, "app" for dist/src, node core, GC, native calls such
// as socket writes) and the top functions, as shares of the sampled time the event loop was busy.
// Sample times include moments the thread was descheduled, so on a busy machine read them as shares.

import { copyFile, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import pg from 'pg';
import path from 'node:path';
import { api, buildSnapshot, createWebhookApiKey, registerAccount, startApp, stopApp } from './crm-helpers.mjs';
import { leadBody } from './inbound.mjs';
import { createScratchDatabase, envInt, envSeconds, loadCheck, printTable, runAutocannon, sleep } from './lib.mjs';

const target = process.argv[2];
const TARGETS = ['contacts', 'ingest', 'list', 'drain', 'deliveries'];
if (!TARGETS.includes(target)) {
  console.error(`usage: node bench/profile.mjs ${TARGETS.join('|')}`);
  process.exit(2);
}
const seconds = envSeconds('BENCH_PROFILE_SECONDS', 8);
const connections = envInt('BENCH_CONNECTIONS', target === 'list' ? 10 : 50);

function packageOf(url) {
  if (!url) return '(native)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.includes('/dist/src/')) return 'app (dist/src)';
  if (url.startsWith('node:')) return 'node core';
  return url;
}

/** Self time by package and by function, from a .cpuprofile, as shares of the busy (non-idle) time. */
export function summarizeProfile(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfTime = new Map();
  for (let index = 0; index < profile.samples.length; index++) {
    const id = profile.samples[index];
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  }
  const byPackage = new Map();
  const byFunction = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, micros] of selfTime) {
    const { callFrame } = byId.get(id);
    if (callFrame.functionName === '(idle)') {
      idle += micros;
      continue;
    }
    busy += micros;
    const special = ['(garbage collector)', '(program)'].includes(callFrame.functionName);
    const pkg = special ? callFrame.functionName : packageOf(callFrame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
    const fn = `${callFrame.functionName || '(anonymous)'} ${special ? '' : `${pkg}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
  }
  const top = (map, limit) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, micros]) => ({ share: `${((100 * micros) / busy).toFixed(1)}%`, 'busy ms': Math.round(micros / 1000), name }));
  // Inclusive time of the app's own functions: each sample counts once for every distinct app function on its stack.
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map();
  for (const [id, micros] of selfTime) {
    if (byId.get(id).callFrame.functionName === '(idle)') continue;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const { callFrame } = byId.get(at);
      if (!callFrame.url.includes('/dist/src/')) continue;
      const name = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.slice(callFrame.url.indexOf('/dist/src/') + 10)}:${callFrame.lineNumber + 1}`;
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
    }
  }
  return { busyMs: busy / 1000, idleMs: idle / 1000, packages: top(byPackage, 18), functions: top(byFunction, 20), appInclusive: top(inclusive, 20) };
}

const load = loadCheck('start');
console.log(`profile of ${target} (node ${process.version}, ${os.cpus().length} cores); ${load.text}`);
const build = await buildSnapshot();
console.log(`app: a snapshot of dist/ (newest file ${build.builtAt.toISOString()})`);
const database = await createScratchDatabase('junction_bench_profile');
const profileFile = path.join(os.tmpdir(), `junction-bench-${process.pid}.cpuprofile`);
let app;
try {
  app = await startApp({
    databaseUrl: database.url,
    env: {
      LOG_LEVEL: 'warn',
      APP_ROLE: process.env.BENCH_PROFILE_ROLE ?? (target === 'ingest' ? 'api' : 'all'),
      INBOUND_RATE_LIMIT: 1_000_000,
      INBOUND_RATE_BURST: 1_000_000,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    },
    label: 'app (CPU profiler)',
    cpuProfileFile: profileFile,
  });
  const account = await registerAccount(app, `profile-${target}`);
  let options;
  if (target === 'drain') {
    await profileDrain(app, account);
  } else if (target === 'deliveries') {
    await profileDeliveries(app, account);
  } else if (target === 'contacts') {
    let counter = 0;
    const tag = Date.now().toString(36);
    options = {
      url: `${app.url}/contacts`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${account.token}` },
      body: '{}',
      setupRequest: (request) => {
        counter += 1;
        request.body = JSON.stringify({ first_name: 'Ada', last_name: 'Lovelace', company: 'Analytical Engines Ltd', email: `ada.${tag}.${counter}@bench.example.com` });
        return request;
      },
    };
  } else if (target === 'ingest') {
    const apiKey = await createWebhookApiKey(app, account.token);
    let counter = 0;
    const tag = Date.now().toString(36);
    options = {
      url: `${app.url}/webhooks/lead.captured`,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': account.tenantId, 'x-api-key': apiKey },
      body: leadBody('placeholder@bench.example.com'),
      setupRequest: (request) => {
        counter += 1;
        request.body = leadBody(`lead.${tag}.${counter}@bench.example.com`);
        return request;
      },
    };
  } else {
    for (let index = 0; index < 200; index++) {
      await api(app, 'POST', '/contacts', { token: account.token, body: { first_name: 'Grace', email: `grace.${index}@bench.example.com` } });
    }
    options = { url: `${app.url}/contacts?q=qzxv`, headers: { authorization: `Bearer ${account.token}` } };
  }
  if (options) await profileRequests(app, options);
} finally {
  await stopApp(app);
  await rm(profileFile, { force: true });
  await database.drop();
}

/** Profiles the app while it drains a backlog: rows inserted by SQL, the processor woken by the poll. */
async function profileDrain(app, account) {
  const count = envInt('BENCH_PROFILE_EVENTS', 20_000);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const remaining = async () => Number((await client.query(`SELECT count(*) AS n FROM integration_events WHERE status IN ('received', 'processing')`)).rows[0].n);
    await client.query(
      `INSERT INTO integration_events (tenant_id, event_name, payload)
       SELECT $1, 'lead.captured', jsonb_build_object('email', 'drain.' || g || '@bench.example.com', 'name', 'Ada Lovelace',
                'company', 'Globex Ltd', 'source', 'website_form', 'utm_campaign', 'summer2025')
         FROM generate_series(1, $2::int) g`,
      [account.tenantId, count],
    );
    await client.query(`SELECT pg_notify('junction_inbound_events', '')`);
    const startedLeft = await remaining();
    process.kill(app.pid, 'SIGUSR2');
    const started = performance.now();
    await sleep(seconds * 1000);
    process.kill(app.pid, 'SIGUSR2');
    const done = startedLeft - (await remaining());
    const elapsed = (performance.now() - started) / 1000;
    await report({ total: done, label: `${done} events processed in ${elapsed.toFixed(1)} s (${(done / elapsed).toFixed(0)} events/s)`, unit: 'event' });
  } finally {
    await client.end();
  }
}

/** Profiles the delivery worker on a backlog inserted by SQL: BENCH_PROFILE_EVENTS events × 10 subscriptions. */
async function profileDeliveries(app, account) {
  const events = Math.ceil(envInt('BENCH_PROFILE_EVENTS', 20_000) / 10);
  let received = 0;
  const receiver = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received += 1;
      response.end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const target = `http://127.0.0.1:${receiver.address().port}/hook`;
    for (let index = 0; index < 10; index++) {
      await api(app, 'POST', '/webhooks/subscriptions', { token: account.token, body: { event_name: 'contact.created', target_url: `${target}/${index}` } });
    }
    await client.query('BEGIN');
    await client.query(
      `WITH ev AS (
         INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
         SELECT g.id, $1::uuid, 'contact.created', jsonb_build_object('event_id', g.id, 'event_name', 'contact.created', 'tenant_id', $1::text,
                  'occurred_at', now(), 'data', jsonb_build_object('contact', jsonb_build_object('id', gen_random_uuid(), 'email', 'ada@example.com'))), now()
           FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, $2)) g
         RETURNING id)
       INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name)
       SELECT $1::uuid, s.id, ev.id, 'contact.created' FROM ev CROSS JOIN webhook_subscriptions s WHERE s.tenant_id = $1::uuid`,
      [account.tenantId, events],
    );
    await client.query(`SELECT pg_notify('junction_webhook_deliveries', '')`);
    await client.query('COMMIT');
    await sleep(500);
    const before = received;
    process.kill(app.pid, 'SIGUSR2');
    const started = performance.now();
    await sleep(seconds * 1000);
    process.kill(app.pid, 'SIGUSR2');
    const done = received - before;
    const elapsed = (performance.now() - started) / 1000;
    await report({ total: done, label: `${done} deliveries received in ${elapsed.toFixed(1)} s (${(done / elapsed).toFixed(0)}/s, 10 subscriptions)`, unit: 'delivery' });
  } finally {
    await client.end();
    receiver.close();
  }
}

async function profileRequests(app, options) {
  console.log(`  warm-up 2 s, then ${seconds} s profiled at c=${connections}…`);
  await runAutocannon({ ...options, connections, duration: 2 });
  process.kill(app.pid, 'SIGUSR2');
  await sleep(200);
  const result = await runAutocannon({ ...options, connections, duration: seconds });
  process.kill(app.pid, 'SIGUSR2');
  await report({ total: result.total, label: `${result.total} requests in ${seconds} s (${result.reqPerSec.toFixed(0)} req/s, p99 ${result.p99} ms, non-2xx ${result.non2xx})`, unit: 'request' });
}

/** Reads the profile the app wrote and prints its summary. */
async function report({ total, label, unit }) {
  let profile;
  for (let attempt = 0; attempt < 100 && !profile; attempt++) {
    await sleep(100);
    profile = await readFile(profileFile, 'utf8').then(JSON.parse, () => undefined);
  }
  if (!profile) throw new Error('no profile written');
  if (process.env.BENCH_PROFILE_KEEP) await copyFile(profileFile, process.env.BENCH_PROFILE_KEEP);
  const summary = summarizeProfile(profile);
  console.log(
    `\n${label}; ` +
      `event loop busy ${(summary.busyMs / 1000).toFixed(2)} s, idle ${(summary.idleMs / 1000).toFixed(2)} s of the sampled time: ` +
      `${(summary.busyMs / total).toFixed(2)} ms busy per ${unit}`,
  );
  console.log('\nself time by package (share of busy time):');
  printTable(summary.packages);
  console.log('\ntop functions by self time:');
  printTable(summary.functions);
  console.log('\ninclusive time of the app\'s own functions (self + what they call, while on the stack):');
  printTable(summary.appInclusive);
}
