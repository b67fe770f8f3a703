// Scale: how the cost of the hot reads and the background claims grows with the data (issue 14, "Scale").
//
//   node bench/scale.mjs                                  # 10k, 100k, 1M contacts (~15–20 min on 2 cores)
//   BENCH_SCALE_LEVELS=10000,100000 node bench/scale.mjs  # the levels `npm run bench` runs by default
//   BENCH_SCALE_EXPLAIN=full node bench/scale.mjs         # also print every EXPLAIN (ANALYZE, BUFFERS) in full
//
// For each level N: a scratch database migrated by the app itself (the built app started as users start it,
// `node dist/src/main.js` with DATABASE_URL, APP_ROLE=all); one big tenant (registered through the API, with
// 10 subscriptions made through the API) gets N contacts, N domain events (contact.updated), 10×N webhook
// deliveries (one per event and subscription: ~97.5 % succeeded, 2 % failed, 0.5 % pending retries due in
// 1–24 h; the 10th subscription is healthy: all succeeded) and N inbound events (96 % processed, 3 % ignored, 1 % failed); 1,000 small tenants beside it
// get a few rows each. Seeded by INSERT … SELECT generate_series with the app stopped, foreign-key
// triggers off (session_replication_role = replica; the rows are consistent by construction) and the
// secondary indexes dropped first and rebuilt after each bulk insert (the same definitions, read from
// pg_index), then VACUUM (ANALYZE), as autovacuum would eventually run. Then the app is started again and
// measured; its RSS is read from /proc/<pid>/status at the end. The database is dropped afterwards.
//
// Every process started here is stopped by its own PID; traffic goes to 127.0.0.1 only.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { processCpuSeconds } from './crm-helpers.mjs';
import { BENCH_DIR, ROOT_DIR, createScratchDatabase, envInt, isMain, loadCheck, printTable, sleep, spawnApp, waitForHttp } from './lib.mjs';

export const DEFAULT_SCALE_LEVELS = [10_000, 100_000, 1_000_000];
/** What `npm run bench` (run-all.mjs) runs unless BENCH_SCALE_LEVELS says otherwise: 1M adds ~12 minutes. */
export const RUN_ALL_SCALE_LEVELS = [10_000, 100_000];

const SUBSCRIPTIONS = 10;
const SMALL_TENANTS = 1000;
const DUE_ROWS = 1000;
const REQUESTS = envInt('BENCH_SCALE_REQUESTS', 200);
const METRICS_REQUESTS = envInt('BENCH_SCALE_METRICS_REQUESTS', 50);
const CLAIM_RUNS = 10;
const DRAIN_TIMEOUT_MS = 180_000;
const EXPLAIN = process.env.BENCH_SCALE_EXPLAIN ?? 'summary';
/** Seeded history spans the last 25 days: inside every default retention period (30 days), so the retention job deletes nothing. */
const SPAN_DAYS = 25;
const RARE_TERM = 'qzxv';
const COMMON_TERM = 'globex';

export function scaleLevelsFromEnv(fallback = DEFAULT_SCALE_LEVELS) {
  const raw = process.env.BENCH_SCALE_LEVELS;
  if (!raw || !raw.trim()) return fallback;
  const levels = raw.split(',').map((part) => Number(part.trim().replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000')));
  if (levels.some((n) => !Number.isInteger(n) || n < 100)) throw new Error(`BENCH_SCALE_LEVELS must be whole numbers ≥ 100 separated by commas, got "${raw}"`);
  return levels;
}

const label = (n) => (n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN;
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
    return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMB: NaN, hwmMB: NaN };
  }
}

const encodeCursor = (createdAt, id) => Buffer.from(JSON.stringify([new Date(createdAt).toISOString(), id])).toString('base64url');

/** A bare node:http receiver on 127.0.0.1 that answers 200 at once and counts the webhook-ids it saw. */
async function startReceiver() {
  const seen = new Set();
  let requests = 0;
  const server = http.createServer((request, response) => {
    requests += 1;
    const id = request.headers['webhook-id'];
    if (id) seen.add(String(id));
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    get requests() {
      return requests;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function startScaleApp(databaseUrl, secretsKey, { profileFile } = {}) {
  // Started as users start it (the app takes its own memory settings); BENCH_APP_NODE_OPTIONS adds flags, as in outbound.mjs.
  const nodeOptions = process.env.BENCH_APP_NODE_OPTIONS ?? '';
  const profiling = profileFile ? { NODE_OPTIONS: `${nodeOptions} --import=${pathToFileURL(path.join(BENCH_DIR, 'cpu-profiler.mjs')).href}`, BENCH_CPU_PROFILE_FILE: profileFile } : { NODE_OPTIONS: nodeOptions };
  const app = await spawnApp({
    env: {
      ...profiling,
      DATABASE_URL: databaseUrl,
      DATA_DIR: undefined,
      APP_ROLE: 'all',
      NODE_ENV: 'production',
      SECRETS_ENCRYPTION_KEY: secretsKey,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    },
    echo: process.env.BENCH_ECHO_APP === '1',
  });
  try {
    await waitForHttp(`${app.url}/health`, 120_000, { abortSignal: app.exitSignal });
  } catch (error) {
    await app.stop();
    throw new Error(`app did not start: ${error.message}\n--- app output (tail) ---\n${app.output}`);
  }
  return app;
}

async function call(app, method, route, { token, body } = {}) {
  const response = await fetch(`${app.url}${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${route} → ${response.status}: ${text.slice(0, 300)}`);
  return text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
}

/**
 * Drops the secondary indexes of `table` (not the primary key or constraint indexes), runs `fill`, then
 * builds them again from their own definitions (and per-column statistics targets).
 */
async function withIndexesRebuilt(client, table, fill) {
  const { rows } = await client.query(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def,
            coalesce((SELECT json_agg(json_build_object('n', a.attnum, 's', a.attstattarget)) FROM pg_attribute a
                       WHERE a.attrelid = i.indexrelid AND a.attstattarget > 0), '[]') AS stats
       FROM pg_index i
      WHERE i.indrelid = $1::regclass AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [table],
  );
  for (const index of rows) await client.query(`DROP INDEX ${index.name}`);
  await fill();
  for (const index of rows) {
    await client.query(index.def);
    for (const { n, s } of index.stats) await client.query(`ALTER INDEX ${index.name} ALTER COLUMN ${n} SET STATISTICS ${s}`);
  }
}

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Dennis', 'Frances', 'John', 'Radia', 'Linus', 'Anita', 'Tim', 'Hedy', 'Claude', 'Katherine', 'Niklaus', 'Sophie'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Ritchie', 'Allen', 'Backus', 'Perlman', 'Torvalds', 'Borg', 'Berners', 'Lamarr', 'Shannon', 'Johnson', 'Wirth', 'Wilson'];
const COMPANIES = ['Initech', 'Umbrella', 'Hooli', 'Acme', 'Stark Industries', 'Wayne Enterprises', 'Soylent', 'Cyberdyne', 'Tyrell', 'Wonka', 'Aperture', 'Vandelay', 'Pied Piper', 'Massive Dynamic', 'Oscorp'];
const DOMAINS = ['gmail.com', 'fastmail.com', 'example.com', 'outlook.com', 'proton.me', 'acme.io', 'mail.org', 'corp.net'];
const sqlArray = (values) => `ARRAY[${values.map((value) => `'${value.replace(/'/g, "''")}'`).join(',')}]`;

/** Seeds one level; returns the seconds each step took. */
async function seed(databaseUrl, { n, tenantId, subscriptionIds }, log) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const steps = {};
  const step = async (name, fn) => {
    const started = performance.now();
    await fn();
    steps[name] = (performance.now() - started) / 1000;
    log(`    seeded ${name} in ${steps[name].toFixed(1)} s`);
  };
  try {
    await client.query(`SET session_replication_role = replica`);
    await client.query(`SET maintenance_work_mem = '512MB'`);
    await client.query(`SET synchronous_commit = off`);
    await client.query(`SET max_parallel_maintenance_workers = 1`);
    await client.query(`SELECT setseed(0.42)`);
    const start = `(now() - interval '${SPAN_DAYS} days')`;
    const spanMs = SPAN_DAYS * 86_400_000;
    // Row i's time: spread evenly over the span, oldest first (distinct to the millisecond up to ~2e9 rows).
    const at = (i) => `(${start} + ((${i})::bigint * ${spanMs} / ${n}) * interval '1 millisecond')`;

    await step('small tenants', async () => {
      await client.query(`INSERT INTO tenants (name, created_at) SELECT 'Small tenant ' || k, now() - interval '40 days' FROM generate_series(1, ${SMALL_TENANTS}) k`);
      await client.query(
        `INSERT INTO contacts (tenant_id, first_name, last_name, email, company, source, created_at, updated_at)
         SELECT t.id, 'Sam', 'Small' || k, 'sam' || k || '@' || left(t.id::text, 8) || '.example.org', 'Small Co', 'import',
                now() - k * interval '1 day', now() - k * interval '1 day'
           FROM tenants t CROSS JOIN generate_series(1, 5) k WHERE t.id <> $1`,
        [tenantId],
      );
      await client.query(
        `INSERT INTO webhook_subscriptions (tenant_id, event_name, target_url, secret_encrypted, created_at)
         SELECT t.id, 'contact.updated', 'https://hooks.example.org/' || t.id, 'not-a-real-secret', now() - interval '40 days' FROM tenants t WHERE t.id <> $1`,
        [tenantId],
      );
      await client.query(
        `WITH ev AS (
           INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
           SELECT gen_random_uuid(), t.id, 'contact.updated', jsonb_build_object('event_name', 'contact.updated', 'tenant_id', t.id, 'email', 'sam' || k || '@example.org'),
                  now() - k * interval '1 day'
             FROM tenants t CROSS JOIN generate_series(1, 5) k WHERE t.id <> $1
           RETURNING id, tenant_id, occurred_at)
         INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name, status, attempts, next_attempt_at, last_status_code, created_at, completed_at)
         SELECT ev.tenant_id, s.id, ev.id, 'contact.updated', 'succeeded', 1, ev.occurred_at, 200, ev.occurred_at, ev.occurred_at + interval '30 milliseconds'
           FROM ev JOIN webhook_subscriptions s ON s.tenant_id = ev.tenant_id`,
        [tenantId],
      );
      await client.query(
        `INSERT INTO integration_events (tenant_id, event_name, payload, status, attempts, next_attempt_at, result, received_at, processed_at)
         SELECT t.id, 'lead.captured', jsonb_build_object('email', 'lead' || k || '@example.org'), 'processed', 1, now() - k * interval '1 day',
                '{"action":"created"}', now() - k * interval '1 day', now() - k * interval '1 day' + interval '40 milliseconds'
           FROM tenants t CROSS JOIN generate_series(1, 3) k WHERE t.id <> $1`,
        [tenantId],
      );
    });

    await step(`${label(n)} contacts`, () =>
      withIndexesRebuilt(client, 'contacts', () =>
        client.query(
          `INSERT INTO contacts (tenant_id, first_name, last_name, email, phone, company, source, custom_fields, created_at, updated_at)
           SELECT $1, f, l, lower(f) || '.' || lower(l) || i || '@' || (${sqlArray(DOMAINS)})[1 + i % ${DOMAINS.length}],
                  '+1 555 ' || lpad((i % 10000000)::text, 7, '0'),
                  CASE WHEN i % 40 = 0 THEN 'Globex' WHEN i % ${Math.max(1, Math.floor(n / 10))} = 7 THEN 'Qzxv Labs'
                       ELSE (${sqlArray(COMPANIES)})[1 + (i * 7) % ${COMPANIES.length}] END,
                  (ARRAY['website_form', 'import', 'n8n', 'activepieces', 'api'])[1 + i % 5],
                  jsonb_build_object('score', i % 100, 'plan', (ARRAY['free', 'pro', 'team'])[1 + i % 3]),
                  ${at('i')}, ${at('i')}
             FROM generate_series(1, ${n}) i,
                  LATERAL (SELECT (${sqlArray(FIRST_NAMES)})[1 + i % ${FIRST_NAMES.length}] AS f,
                                  (${sqlArray(LAST_NAMES)})[1 + (i / ${FIRST_NAMES.length}) % ${LAST_NAMES.length}] AS l) names`,
          [tenantId],
        ),
      ),
    );

    await step(`${label(n)} domain events`, () =>
      withIndexesRebuilt(client, 'domain_events', () =>
        client.query(
          `INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
           SELECT g.id, $1, 'contact.updated',
                  jsonb_build_object('id', gen_random_uuid(), 'first_name', 'Ada', 'last_name', 'Lovelace', 'email', 'ada' || g.i || '@example.com',
                                     'company', 'Acme', 'source', 'n8n', 'custom_fields', '{}'::jsonb,
                                     'changes', jsonb_build_object('phone', jsonb_build_object('from', null, 'to', '+1 555 ' || g.i)),
                                     'event_id', g.id, 'event_name', 'contact.updated', 'occurred_at', ${at('g.i')}, 'tenant_id', $1::uuid),
                  ${at('g.i')}
             FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, ${n}) i) g`,
          [tenantId],
        ),
      ),
    );

    await step(`${label(10 * n)} webhook deliveries`, () =>
      withIndexesRebuilt(client, 'webhook_deliveries', () =>
        client.query(
          `INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name, status, attempts, next_attempt_at, last_status_code, last_error, created_at, completed_at)
           SELECT $1, s.id, e.id, 'contact.updated', x.status,
                  CASE x.status WHEN 'succeeded' THEN 1 WHEN 'pending' THEN 3 ELSE 8 END,
                  CASE WHEN x.status = 'pending' THEN now() + (1 + x.h % 24) * interval '1 hour' ELSE e.occurred_at END,
                  CASE x.status WHEN 'succeeded' THEN 200 WHEN 'pending' THEN 503 ELSE 500 END,
                  CASE x.status WHEN 'succeeded' THEN NULL ELSE 'HTTP ' || CASE x.status WHEN 'pending' THEN 503 ELSE 500 END END,
                  e.occurred_at + s.k * interval '1 millisecond',
                  CASE x.status WHEN 'succeeded' THEN e.occurred_at + interval '40 milliseconds' WHEN 'failed' THEN e.occurred_at + interval '2 hours' END
             FROM domain_events e
            CROSS JOIN unnest($2::uuid[]) WITH ORDINALITY AS s(id, k)
            CROSS JOIN LATERAL (SELECT h, CASE WHEN s.k = ${SUBSCRIPTIONS} THEN 'succeeded' WHEN h % 1000 < 5 THEN 'pending' WHEN h % 1000 < 25 THEN 'failed' ELSE 'succeeded' END AS status
                                  FROM (SELECT e.seq * 7919 + s.k * 104729 AS h) hh) x
            WHERE e.tenant_id = $1`,
          [tenantId, subscriptionIds],
        ),
      ),
    );

    await step(`${label(n)} inbound events`, () =>
      withIndexesRebuilt(client, 'integration_events', () =>
        client.query(
          `INSERT INTO integration_events (tenant_id, event_name, payload, status, attempts, next_attempt_at, error_message, result, received_at, processed_at)
           SELECT $1, CASE WHEN x.status = 'ignored' THEN 'test.event' ELSE 'lead.captured' END,
                  jsonb_build_object('email', 'lead' || i || '@example.com', 'name', 'Lead ' || i, 'source', 'website_form', 'utm_campaign', 'summer'),
                  x.status, 1, ${at('i')},
                  CASE WHEN x.status = 'failed' THEN 'email: must be an email address' END,
                  CASE WHEN x.status = 'processed' THEN jsonb_build_object('contact_id', gen_random_uuid(), 'action', 'created') END,
                  ${at('i')}, ${at('i')} + interval '40 milliseconds'
             FROM generate_series(1, ${n}) i,
                  LATERAL (SELECT CASE WHEN i % 100 = 0 THEN 'failed' WHEN i % 100 < 4 THEN 'ignored' ELSE 'processed' END AS status) x`,
          [tenantId],
        ),
      ),
    );

    await step('VACUUM (ANALYZE)', () =>
      client.query(`VACUUM (ANALYZE) tenants, contacts, domain_events, webhook_subscriptions, webhook_deliveries, integration_events`),
    );
    const { rows } = await client.query(
      `SELECT relname AS table, reltuples::bigint AS rows, pg_size_pretty(pg_total_relation_size(oid)) AS size
         FROM pg_class WHERE relname IN ('contacts', 'domain_events', 'webhook_deliveries', 'integration_events') ORDER BY relname`,
    );
    steps.tables = rows;
  } finally {
    await client.end();
  }
  return steps;
}

/** Sequential GETs (one connection, keep-alive): p50/p99 of the wall time per request after `warmup` unrecorded ones. */
async function timeGets(url, { token, count = REQUESTS, warmup = 10, check } = {}) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const times = [];
  let last;
  for (let i = 0; i < warmup + count; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    const text = await response.text();
    const elapsed = performance.now() - started;
    if (response.status !== 200) throw new Error(`GET ${url} → ${response.status}: ${text.slice(0, 300)}`);
    if (i >= warmup) times.push(elapsed);
    last = text;
  }
  if (check) check(last);
  return stats(times);
}

/** p50/p99 of PostgreSQL's own execution time of one statement (EXPLAIN ANALYZE) and the plan of the median run. */
async function explainRuns(client, sql, params, runs) {
  const times = [];
  let plans = [];
  for (let i = 0; i < runs; i++) {
    const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
    const plan = rows[0]['QUERY PLAN'][0];
    times.push(plan['Execution Time']);
    plans.push(plan);
  }
  plans = plans.sort((a, b) => a['Execution Time'] - b['Execution Time']);
  return { ...stats(times), plan: plans[Math.floor(plans.length / 2)] };
}

function planSummary(plan) {
  const nodes = [];
  const walk = (node, depth) => {
    if (depth > 6 || nodes.length > 8) return;
    const what = [node['Node Type'], node['Index Name'] ? `using ${node['Index Name']}` : node['Relation Name'] ? `on ${node['Relation Name']}` : '', node['Scan Direction'] === 'Backward' ? '(backward)' : '']
      .filter(Boolean)
      .join(' ');
    const removed = node['Rows Removed by Filter'] ? `, ${node['Rows Removed by Filter']} removed by filter` : '';
    nodes.push(`${what} (rows ${node['Actual Rows']}${removed})`);
    for (const child of node.Plans ?? []) walk(child, depth + 1);
  };
  walk(plan.Plan, 0);
  const top = plan.Plan;
  return {
    ms: plan['Execution Time'],
    buffers: `hit ${top['Shared Hit Blocks'] ?? 0} read ${top['Shared Read Blocks'] ?? 0}`,
    plan: nodes.join(' > '),
  };
}

async function explainText(client, sql, params) {
  const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

// The SQL the list routes send (TypeORM's query builder + paginate(): same predicates, order and limit), for EXPLAIN.
const LIST_SQL = {
  contacts: (extra = '') => `SELECT c.* FROM contacts c WHERE c.tenant_id = $1 ${extra} ORDER BY c.created_at DESC, c.id DESC LIMIT 51`,
  search: `SELECT c.* FROM contacts c WHERE c.tenant_id = $1
             AND lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(c.company, '')) LIKE $2
           ORDER BY c.created_at DESC, c.id DESC LIMIT 51`,
  deliveries: (extra) => `SELECT d.* FROM webhook_deliveries d WHERE d.tenant_id = $1 ${extra} ORDER BY d.created_at DESC, d.id DESC LIMIT 51`,
  inbound: `SELECT e.* FROM integration_events e WHERE e.tenant_id = $1 AND e.status = $2 ORDER BY e.received_at DESC, e.id DESC LIMIT 51`,
};

// The claims as the built app runs them (the repositories' own statements, exported for this, and the delivery
// claim's session settings, which its connection has), with an idle
// worker's parameters: deliveries limit 100, nothing saturated or busy, lease 35 s, 20 per subscription; inbound
// limit 25 (one batch).
const DELIVERY_CLAIM_PARAMS = [100, [], 35, 20, [], []];
const INBOUND_CLAIM_PARAMS = [25];

async function claimStatements() {
  await import('reflect-metadata');
  const built = (file) => import(pathToFileURL(path.join(ROOT_DIR, 'dist', 'src', 'webhooks', file)).href);
  const [delivery, inbound] = await Promise.all([built('delivery/webhook-delivery.repository.js'), built('inbound/integration-event.repository.js')]);
  return { deliveryClaimSql: delivery.CLAIM_DUE_SQL, deliveryClaimSettings: delivery.CLAIM_SESSION_SETTINGS, inboundClaimSql: inbound.CLAIM_DUE_SQL };
}

/** DUE_ROWS due deliveries (and their events) over the big tenant's subscriptions, in `client`'s transaction. */
async function insertDueDeliveries(client, tenantId, subscriptionIds) {
  const { rows } = await client.query(
    `WITH ev AS (
       INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
       SELECT g.id, $1, 'contact.updated', jsonb_build_object('event_id', g.id, 'event_name', 'contact.updated', 'tenant_id', $1::uuid, 'email', 'due' || g.i || '@example.com'), now()
         FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, $3) i) g
       RETURNING id, seq)
     INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name, next_attempt_at)
     SELECT $1, ($2::uuid[])[(1 + ev.seq % array_length($2::uuid[], 1))::int], ev.id, 'contact.updated', now() - interval '1 second' FROM ev
     RETURNING event_id`,
    [tenantId, subscriptionIds, DUE_ROWS],
  );
  return rows.map((row) => row.event_id);
}

async function insertReceivedEvents(client, tenantId) {
  const { rows } = await client.query(
    `INSERT INTO integration_events (tenant_id, event_name, payload, next_attempt_at)
     SELECT $1, 'lead.captured', jsonb_build_object('email', 'scale-' || $3::text || '-' || i || '@example.net', 'name', 'Scale Lead ' || i, 'source', 'bench'),
            now() - interval '1 second'
       FROM generate_series(1, $2) i
     RETURNING id`,
    [tenantId, DUE_ROWS, randomBytes(4).toString('hex')],
  );
  return rows.map((row) => row.id);
}

/**
 * Runs a claim statement `CLAIM_RUNS` times over DUE_ROWS uncommitted due rows (invisible to the app), rolled back
 * each time, with the session `settings` its connection has in the app (for this transaction only). `prepared`:
 * as the app runs the delivery claim, a prepared statement (EXECUTE, so its plan is the one the settings choose).
 */
async function timeClaim(client, insertRows, sql, params, { settings = {}, prepared = false } = {}) {
  let statement = sql;
  await client.query('BEGIN');
  try {
    for (const [name, value] of Object.entries(settings)) await client.query(`SELECT set_config($1, $2, true)`, [name, value]);
    await insertRows();
    if (prepared) {
      await client.query(`PREPARE timed_claim AS ${sql}`);
      // EXECUTE takes its arguments as literals (numbers and arrays here).
      const literals = params.map((value) => (Array.isArray(value) ? pg.escapeLiteral(`{${value.join(',')}}`) : String(value)));
      statement = `EXECUTE timed_claim(${literals.join(', ')})`;
    }
    const times = [];
    let plan;
    for (let i = 0; i < CLAIM_RUNS; i++) {
      await client.query('SAVEPOINT claim');
      const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement}`, prepared ? [] : params);
      const result = rows[0]['QUERY PLAN'][0];
      times.push(result['Execution Time']);
      if (i === Math.floor(CLAIM_RUNS / 2)) plan = result;
      await client.query('ROLLBACK TO SAVEPOINT claim');
    }
    return { ...stats(times), plan };
  } finally {
    await client.query('ROLLBACK');
    if (statement !== sql) await client.query('DEALLOCATE timed_claim');
  }
}

async function waitUntil(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

async function measureLevel(n, log) {
  const result = { n, label: label(n), figures: {}, plans: {}, explains: {} };
  const levelStarted = performance.now();
  const database = await createScratchDatabase('junction_scale');
  const receiver = await startReceiver();
  const secretsKey = randomBytes(32).toString('base64');
  let app;
  let pool;
  try {
    // 1. The app migrates the database; the big tenant and its subscriptions come through the API.
    app = await startScaleApp(database.url, secretsKey);
    const session = await call(app, 'POST', '/auth/register', {
      body: { email: `scale-${randomBytes(4).toString('hex')}@bench.example.com`, password: 'bench-password-123', name: 'Scale Admin', tenant_name: `Scale ${label(n)}` },
    });
    const token = session.token;
    const tenantId = session.tenant.id;
    const subscriptionIds = [];
    for (let k = 0; k < SUBSCRIPTIONS; k++) {
      const subscription = await call(app, 'POST', '/webhooks/subscriptions', { token, body: { event_name: 'contact.updated', target_url: `${receiver.url}/hooks/${k}` } });
      subscriptionIds.push(subscription.id);
    }
    await app.stop();
    app = undefined;

    // 2. Seed with the app stopped.
    log(`  seeding ${label(n)} (database ${database.name})…`);
    const seedStarted = performance.now();
    result.seed = await seed(database.url, { n, tenantId, subscriptionIds }, log);
    result.seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`  seeded in ${result.seedSeconds.toFixed(1)} s: ${result.seed.tables.map((t) => `${t.table} ${t.rows} rows (${t.size})`).join(', ')}`);

    // 3. The app as users start it, then the measurements.
    const profileFile = process.env.BENCH_SCALE_PROFILE ? `${process.env.BENCH_SCALE_PROFILE}-${label(n)}.cpuprofile` : undefined;
    app = await startScaleApp(database.url, secretsKey, { profileFile });
    if (profileFile) process.kill(app.pid, 'SIGUSR2');
    result.pid = app.pid;
    await sleep(1000);
    result.memoryAtStart = memory(app.pid);
    pool = new pg.Pool({ connectionString: database.url, max: 3 });
    pool.on('error', () => undefined);
    const sqlClient = await pool.connect();
    const figure = async (key, what, measure, explain) => {
      const cpuBefore = processCpuSeconds(app.pid);
      const wallBefore = performance.now();
      const figures = await measure();
      figures.appCpuShare = (processCpuSeconds(app.pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000);
      result.figures[key] = { what, ...figures };
      if (explain) {
        const run = await explainRuns(sqlClient, explain.sql, explain.params, 3);
        result.plans[key] = planSummary(run.plan);
        if (EXPLAIN === 'full') result.explains[key] = await explainText(sqlClient, explain.sql, explain.params);
      }
      const plan = result.plans[key];
      log(`    ${what}: p50 ${figures.p50.toFixed(2)} ms, p99 ${figures.p99?.toFixed(2) ?? '—'} ms, app CPU ${(100 * figures.appCpuShare).toFixed(0)} %${plan ? `   [SQL ${plan.ms.toFixed(2)} ms: ${plan.plan}]` : ''}`);
    };
    try {
      const api = app.url;
      const { rows: [middle] } = await sqlClient.query(`SELECT created_at, id FROM contacts WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`, [tenantId, Math.floor(n / 2)]);
      const deepCursor = encodeCursor(middle.created_at, middle.id);
      // The cursor chain itself works (three pages in), so the hand-made cursor above is one the API would give.
      let cursor = null;
      for (let page = 0; page < 3; page++) {
        const body = JSON.parse(await (await fetch(`${api}/contacts?limit=50${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${token}` } })).text());
        if (!body.next_cursor || body.data.length !== 50) throw new Error(`contacts page ${page}: ${JSON.stringify(body).slice(0, 200)}`);
        cursor = body.next_cursor;
      }
      const expectRows = (min) => (text) => {
        const body = JSON.parse(text);
        if (!Array.isArray(body.data) || body.data.length < min) throw new Error(`expected ≥ ${min} rows, got ${text.slice(0, 200)}`);
      };
      const middleCreatedAt = new Date(middle.created_at);
      await figure('contacts_first', 'GET /contacts first page', () => timeGets(`${api}/contacts?limit=50`, { token, check: expectRows(50) }), {
        sql: LIST_SQL.contacts(),
        params: [tenantId],
      });
      await figure('contacts_deep', 'GET /contacts page at row N/2 (cursor)', () => timeGets(`${api}/contacts?limit=50&cursor=${deepCursor}`, { token, check: expectRows(50) }), {
        sql: LIST_SQL.contacts('AND (c.created_at, c.id) < ($2, $3)'),
        params: [tenantId, middleCreatedAt, middle.id],
      });
      await figure('search_rare', `GET /contacts?q=${RARE_TERM} (10 matches)`, () => timeGets(`${api}/contacts?q=${RARE_TERM}`, { token, check: expectRows(10) }), {
        sql: LIST_SQL.search,
        params: [tenantId, `%${RARE_TERM}%`],
      });
      await figure('search_common', `GET /contacts?q=${COMMON_TERM} (1 in 40)`, () => timeGets(`${api}/contacts?q=${COMMON_TERM}`, { token, check: expectRows(50) }), {
        sql: LIST_SQL.search,
        params: [tenantId, `%${COMMON_TERM}%`],
      });

      const subscriptionId = subscriptionIds[0];
      const { rows: [middleDelivery] } = await sqlClient.query(
        `SELECT created_at, id FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`,
        [subscriptionId, Math.floor(n / 2)],
      );
      await figure('deliveries_subscription', 'GET /webhooks/deliveries?subscription_id=', () => timeGets(`${api}/webhooks/deliveries?subscription_id=${subscriptionId}`, { token, check: expectRows(50) }), {
        sql: LIST_SQL.deliveries('AND d.subscription_id = $2'),
        params: [tenantId, subscriptionId],
      });
      await figure(
        'deliveries_subscription_deep',
        'GET /webhooks/deliveries?subscription_id= page at row N/2 (cursor)',
        () => timeGets(`${api}/webhooks/deliveries?subscription_id=${subscriptionId}&cursor=${encodeCursor(middleDelivery.created_at, middleDelivery.id)}`, { token, check: expectRows(50) }),
        { sql: LIST_SQL.deliveries('AND d.subscription_id = $2 AND (d.created_at, d.id) < ($3, $4)'), params: [tenantId, subscriptionId, new Date(middleDelivery.created_at), middleDelivery.id] },
      );
      await figure(
        'deliveries_subscription_failed',
        'GET /webhooks/deliveries?subscription_id=&status=failed (a healthy subscription: none)',
        () => timeGets(`${api}/webhooks/deliveries?subscription_id=${subscriptionIds[SUBSCRIPTIONS - 1]}&status=failed`, { token, check: expectRows(0) }),
        { sql: LIST_SQL.deliveries('AND d.subscription_id = $2 AND d.status = $3'), params: [tenantId, subscriptionIds[SUBSCRIPTIONS - 1], 'failed'] },
      );
      await figure('deliveries_failed', 'GET /webhooks/deliveries?status=failed (2 %)', () => timeGets(`${api}/webhooks/deliveries?status=failed`, { token, check: expectRows(50) }), {
        sql: LIST_SQL.deliveries('AND d.status = $2'),
        params: [tenantId, 'failed'],
      });
      await figure('deliveries_pending', 'GET /webhooks/deliveries?status=pending (0.5 %)', () => timeGets(`${api}/webhooks/deliveries?status=pending`, { token, check: expectRows(10) }), {
        sql: LIST_SQL.deliveries('AND d.status = $2'),
        params: [tenantId, 'pending'],
      });
      await figure('inbound_failed', 'GET /webhooks/events?status=failed (1 %)', () => timeGets(`${api}/webhooks/events?status=failed`, { token, check: expectRows(50) }), {
        sql: LIST_SQL.inbound,
        params: [tenantId, 'failed'],
      });
      await figure('inbound_received', 'GET /webhooks/events?status=received (none)', () => timeGets(`${api}/webhooks/events?status=received`, { token, check: expectRows(0) }), {
        sql: LIST_SQL.inbound,
        params: [tenantId, 'received'],
      });
      await figure('metrics', 'GET /metrics scrape', () => timeGets(`${api}/metrics`, { count: METRICS_REQUESTS, warmup: 3 }));

      // The claims: the statement itself over DUE_ROWS due rows among the history (rolled back), then a real drain.
      const { deliveryClaimSql, deliveryClaimSettings, inboundClaimSql } = await claimStatements();
      const deliveryClaim = await timeClaim(sqlClient, () => insertDueDeliveries(sqlClient, tenantId, subscriptionIds), deliveryClaimSql, DELIVERY_CLAIM_PARAMS, { settings: deliveryClaimSettings, prepared: true });
      result.figures.delivery_claim_sql = { what: `delivery claim statement (100 of ${DUE_ROWS} due), PostgreSQL time`, p50: deliveryClaim.p50, p99: deliveryClaim.p99 };
      result.plans.delivery_claim_sql = planSummary(deliveryClaim.plan);
      log(`    delivery claim statement: p50 ${deliveryClaim.p50.toFixed(2)} ms, p99 ${deliveryClaim.p99.toFixed(2)} ms`);
      const inboundClaim = await timeClaim(sqlClient, () => insertReceivedEvents(sqlClient, tenantId), inboundClaimSql, INBOUND_CLAIM_PARAMS);
      result.figures.inbound_claim_sql = { what: `inbound claim statement (25 of ${DUE_ROWS} received), PostgreSQL time`, p50: inboundClaim.p50, p99: inboundClaim.p99 };
      result.plans.inbound_claim_sql = planSummary(inboundClaim.plan);
      log(`    inbound claim statement: p50 ${inboundClaim.p50.toFixed(2)} ms, p99 ${inboundClaim.p99.toFixed(2)} ms`);

      await sqlClient.query('BEGIN');
      const eventIds = await insertDueDeliveries(sqlClient, tenantId, subscriptionIds);
      await sqlClient.query(`SELECT pg_notify('junction_webhook_deliveries', '')`);
      await sqlClient.query('COMMIT');
      let started = performance.now();
      await waitUntil(
        async () => (await sqlClient.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE event_id = ANY($1::uuid[]) AND status = 'succeeded'`, [eventIds])).rows[0].n === DUE_ROWS,
        DRAIN_TIMEOUT_MS,
        'delivery drain',
      );
      const deliveryDrainMs = performance.now() - started;
      result.figures.delivery_drain = { what: `${DUE_ROWS} due deliveries → all succeeded (wall)`, p50: deliveryDrainMs, deliveredPerSecond: DUE_ROWS / (deliveryDrainMs / 1000) };
      log(`    ${DUE_ROWS} due deliveries drained in ${deliveryDrainMs.toFixed(0)} ms (${(DUE_ROWS / (deliveryDrainMs / 1000)).toFixed(0)}/s; receiver saw ${receiver.seen.size} ids)`);

      const inboundIds = await insertReceivedEvents(sqlClient, tenantId);
      await sqlClient.query(`SELECT pg_notify('junction_inbound_events', '')`);
      started = performance.now();
      await waitUntil(
        async () =>
          (await sqlClient.query(`SELECT count(*)::int AS n FROM integration_events WHERE id = ANY($1::uuid[]) AND status NOT IN ('received', 'processing')`, [inboundIds])).rows[0].n === DUE_ROWS,
        DRAIN_TIMEOUT_MS,
        'inbound drain',
      );
      const inboundDrainMs = performance.now() - started;
      const { rows: [outcome] } = await sqlClient.query(`SELECT count(*) FILTER (WHERE status = 'processed')::int AS processed FROM integration_events WHERE id = ANY($1::uuid[])`, [inboundIds]);
      if (outcome.processed !== DUE_ROWS) throw new Error(`inbound drain: only ${outcome.processed}/${DUE_ROWS} processed`);
      result.figures.inbound_drain = { what: `${DUE_ROWS} received lead.captured → processed (wall)`, p50: inboundDrainMs, processedPerSecond: DUE_ROWS / (inboundDrainMs / 1000) };
      log(`    ${DUE_ROWS} inbound events drained in ${inboundDrainMs.toFixed(0)} ms (${(DUE_ROWS / (inboundDrainMs / 1000)).toFixed(0)}/s)`);

      // A last scrape after the drains (the gauges read the tables again).
      await figure('metrics_after', 'GET /metrics scrape (after the drains)', () => timeGets(`${api}/metrics`, { count: 20, warmup: 1 }));
    } finally {
      sqlClient.release();
    }
    result.memory = memory(app.pid);
    if (profileFile) {
      process.kill(app.pid, 'SIGUSR2');
      await sleep(2000);
      log(`    CPU profile of the measurements: ${profileFile}`);
    }
    log(`    app RSS: ${result.memoryAtStart.rssMB.toFixed(0)} MB 1 s after start, ${result.memory.rssMB.toFixed(0)} MB at the end, peak (VmHWM) ${result.memory.hwmMB.toFixed(0)} MB`);
  } finally {
    if (pool) await pool.end().catch(() => undefined);
    if (app) {
      const exit = await app.stop();
      if (exit.code !== 0 && exit.signal !== 'SIGTERM') console.error(`[scale] app (pid ${app.pid}) exited with code ${exit.code} signal ${exit.signal}\n${app.output}`);
    }
    await receiver.close();
    await database.drop();
  }
  result.seconds = (performance.now() - levelStarted) / 1000;
  return result;
}

/** Seeds and measures each level in turn (a database each, dropped after); see the header for what. */
export async function measureScale({ levels = scaleLevelsFromEnv(), log = console.log } = {}) {
  const started = performance.now();
  const results = [];
  for (const n of levels) {
    log(`  level ${label(n)}: ${n} contacts, ${10 * n} deliveries, ${n} domain + ${n} inbound events, ${SMALL_TENANTS} small tenants`);
    results.push(await measureLevel(n, log));
    log(`  level ${label(n)} done in ${results.at(-1).seconds.toFixed(0)} s`);
  }
  return { levels: results, seconds: (performance.now() - started) / 1000 };
}

const GROWTH_GOAL = 2;
/** A growth of the SQL's own time below this (ms) is not counted against the goal: a plan change between two sub-millisecond plans. */
const SQL_NOISE_MS = 1;

/** The growth table: each figure per level (p50 / p99 ms), and the ratio of the last level to the first on p50 (goal ≤ 2×). */
export function scaleRows(scale) {
  const levels = scale.levels;
  if (!levels.length) return [];
  const first = levels[0];
  const last = levels[levels.length - 1];
  const keys = Object.keys(first.figures);
  const rows = keys.map((key) => {
    const row = { figure: first.figures[key].what };
    const hasSql = first.plans[key] !== undefined && !key.endsWith('_sql');
    for (const level of levels) {
      const f = level.figures[key];
      row[`${level.label} p50`] = f ? Number(f.p50.toFixed(2)) : undefined;
      row[`${level.label} p99`] = f?.p99 !== undefined ? Number(f.p99.toFixed(2)) : undefined;
      row[`${level.label} sql`] = hasSql && level.plans[key] ? Number(level.plans[key].ms.toFixed(2)) : undefined;
    }
    const ratio = last.figures[key] && first.figures[key] ? last.figures[key].p50 / first.figures[key].p50 : NaN;
    row[`${last.label}/${first.label} p50`] = `${ratio.toFixed(2)}x`;
    row[`${last.label}/${first.label} p99`] = first.figures[key].p99 !== undefined ? `${(last.figures[key].p99 / first.figures[key].p99).toFixed(2)}x` : '';
    row[`${last.label}/${first.label} sql`] = hasSql ? `${(last.plans[key].ms / first.plans[key].ms).toFixed(2)}x` : '';
    // The HTTP time includes the shared machine's noise (and the app's GC): when it alone grew, the server-side
    // part that depends on the data (the SQL's own time) tells whether the data made it grow.
    const sqlFirst = first.plans[key]?.ms;
    const sqlLast = last.plans[key]?.ms;
    const sqlFlat = hasSql && (sqlLast <= GROWTH_GOAL * sqlFirst || sqlLast - sqlFirst < SQL_NOISE_MS);
    row.goal = levels.length < 2 ? '' : ratio <= GROWTH_GOAL ? 'met' : sqlFlat ? 'noise (sql flat)' : 'MISSED';
    return row;
  });
  const memoryRow = (what, pick) => {
    const row = { figure: what };
    for (const level of levels) row[`${level.label} p50`] = Number(pick(level).toFixed(0));
    const ratio = pick(last) / pick(first);
    row[`${last.label}/${first.label} p50`] = `${ratio.toFixed(2)}x`;
    row.goal = levels.length < 2 ? '' : ratio <= 1.25 ? 'flat' : 'GROWS';
    return row;
  };
  rows.push(memoryRow('app RSS at the end, MB (VmRSS)', (level) => level.memory.rssMB));
  rows.push(memoryRow('app peak RSS, MB (VmHWM)', (level) => level.memory.hwmMB));
  return rows;
}

export function reportScale(scale) {
  console.log(
    `\nGrowth table (times in ms; p50/p99 of ${REQUESTS} sequential requests per route, ${METRICS_REQUESTS} scrapes, ${CLAIM_RUNS} claim runs; drains are one wall time; ` +
      `sql = PostgreSQL's execution time of the route's query. Goal: last level ≤ ${GROWTH_GOAL}× the first on p50; "noise (sql flat)" = only the HTTP time grew, ` +
      `its query did not (≤ ${GROWTH_GOAL}× or < ${SQL_NOISE_MS} ms more); RSS flat = ≤ 1.25×):`,
  );
  const rows = scaleRows(scale);
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  printTable(rows, { columns: ['figure', ...columns.filter((c) => c !== 'figure' && c !== 'goal'), 'goal'] });
  console.log('\nSeeding (s):');
  printTable(scale.levels.map((level) => ({ level: level.label, ...Object.fromEntries(Object.entries(level.seed).filter(([k]) => k !== 'tables').map(([k, v]) => [k.replace(/^[\d.]+[kM]? /, ''), Number(v.toFixed(1))])), total: Number(level.seedSeconds.toFixed(1)), 'level total': Number(level.seconds.toFixed(0)) })));
  console.log('\nPlans (EXPLAIN ANALYZE of the same SQL, median of 3 runs; claims: the median of their runs):');
  const planRows = [];
  for (const level of scale.levels) for (const [key, plan] of Object.entries(level.plans)) planRows.push({ level: level.label, figure: key, 'sql ms': Number(plan.ms.toFixed(2)), buffers: plan.buffers, plan: plan.plan.length > 160 ? `${plan.plan.slice(0, 159)}…` : plan.plan });
  printTable(planRows);
  for (const level of scale.levels) {
    for (const [key, text] of Object.entries(level.explains)) console.log(`\n--- ${level.label} ${key}\n${text}`);
  }
  console.log(`\nscale: ${scale.levels.map((level) => label(level.n)).join(', ')} in ${(scale.seconds / 60).toFixed(1)} min`);
}

/** Summary rows for run-all: each figure's p50 at the last level and its ratio to the first. */
export function scaleSummaryRows(scale) {
  return scaleRows(scale).map((row) => {
    const keys = Object.keys(row);
    const ratioKey = keys.find((key) => key.includes('/') && key.endsWith('p50'));
    const lastP50 = keys.filter((key) => key.endsWith(' p50') && !key.includes('/')).at(-1);
    return { figure: `scale: ${row.figure}`, value: `${row[lastP50]} at ${lastP50.replace(' p50', '')} (${row[ratioKey]} of the first level) ${row.goal}` };
  });
}

export function scaleProblems(scale) {
  return scaleRows(scale)
    .filter((row) => row.goal === 'MISSED' || row.goal === 'GROWS')
    .map((row) => `scale: ${row.figure} grows ${Object.entries(row).find(([key]) => key.includes('/') && key.endsWith('p50'))?.[1]} (goal ≤ ${GROWTH_GOAL}x)`);
}

export function scaleFigures(scale) {
  return { seconds: scale.seconds, levels: scale.levels.map(({ explains: _explains, ...level }) => level) };
}

if (isMain(import.meta.url)) {
  const load = loadCheck('start');
  console.log(`Junction CRM scale benchmark — levels ${scaleLevelsFromEnv().map(label).join(', ')} — ${load.text}\n`);
  const scale = await measureScale();
  reportScale(scale);
  const dir = path.join(BENCH_DIR, 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ load, ...scaleFigures(scale) }, null, 2)}\n`);
  console.log(`written: ${path.relative(ROOT_DIR, file)}`);
  const problems = scaleProblems(scale);
  if (problems.length) {
    console.error(`\nproblems:\n  ${problems.join('\n  ')}`);
    process.exitCode = 2;
  }
}
