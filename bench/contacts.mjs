// Contacts benchmark (issue 3, "Measure"): the BUILT app on a scratch database on 127.0.0.1:5432.
//
//   (a) POST /api/contacts with a unique email per request, c=50, 10 s (+2 s warm-up), against the bare
//       Fastify + pg baseline (bench/baseline-ingest.mjs) run in the same process just before and after.
//       Goal: ≥ 0.5× the baseline's req/s with p99 < 100 ms.
//   (b) GET /api/contacts?q=<substring> over 100,000 contacts of one tenant (seeded by one INSERT … SELECT
//       generate_series), a few q values, c=1 and c=10, 5 s each: p50/p99 (goal p99 < 50 ms), and the
//       EXPLAIN (ANALYZE, BUFFERS) of the query ContactsService.list runs.
//   (c) Statements per request (POST and GET ?q=), from an app started with bench/query-counter.mjs.
//
//   npm run build && node bench/contacts.mjs
//   BENCH_DURATION=3 BENCH_LIST_DURATION=2 node bench/contacts.mjs          # quick
//   BENCH_CONTACTS_PARTS=list BENCH_QUERIES=globex,4242 node bench/contacts.mjs
//
// Environment: BENCH_DURATION (s, POST and baseline), BENCH_CONNECTIONS (POST and baseline, 50), BENCH_WARMUP
// (s, 2), BENCH_LIST_DURATION (s per q and concurrency, 5), BENCH_LIST_CONNECTIONS (comma-separated, 1,10), BENCH_SEED_CONTACTS (100000),
// BENCH_QUERIES (comma-separated q values), BENCH_CONTACTS_PARTS (create,list,queries; default all),
// BENCH_BASELINE_BRACKET=0 (baseline only before), BENCH_PG_URL (admin URL of the PostgreSQL server).
// The app runs with its defaults (APP_ROLE=all, DB_POOL_SIZE=10) and LOG_LEVEL=warn.

import os from 'node:os';
import pg from 'pg';
import { api, buildSnapshot, cpuMeter, figures, formatCpu, formatWaits, printQueryDelta, startWaitSampler, queryDelta, readQueryCounts, registerAccount, startApp, stopApp, withBaseline } from './crm-helpers.mjs';
import { createScratchDatabase, ensureBuilt, envInt, envSeconds, isMain, loadCheck, printTable, ratio, runAutocannon } from './lib.mjs';

export const DEFAULT_QUERIES = [
  { q: 'globex', what: 'company fragment (~1 in 40 contacts)' },
  { q: 'fastmail', what: 'email domain fragment (~1 in 12)' },
  { q: 'lovelace', what: 'last-name / email fragment (~1 in 50)' },
  { q: '4242', what: 'rare email fragment (a few dozen)' },
  { q: 'qzxv', what: 'no match at all' },
];

// Must stay the expression of ContactsService.list (and of contacts_search_trgm_idx).
const SEARCH_EXPRESSION = `lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(c.company, ''))`;
/** What TypeORM sends for GET /api/contacts?q=… (no cursor, default limit 50 → LIMIT 51). */
export const LIST_SQL = `SELECT "c"."id" AS "c_id", "c"."tenant_id" AS "c_tenant_id", "c"."first_name" AS "c_first_name", "c"."last_name" AS "c_last_name",
       "c"."email" AS "c_email", "c"."phone" AS "c_phone", "c"."company" AS "c_company", "c"."source" AS "c_source",
       "c"."custom_fields" AS "c_custom_fields", "c"."created_at" AS "c_created_at", "c"."updated_at" AS "c_updated_at"
  FROM "contacts" "c"
 WHERE "c"."tenant_id" = $1 AND ${SEARCH_EXPRESSION} LIKE $2
 ORDER BY "c"."created_at" DESC, "c"."id" DESC
 LIMIT 51`;

const escapeLike = (value) => value.replace(/[\\%_]/g, (character) => `\\${character}`);

const FIRST_NAMES = [
  'Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Frances', 'John', 'Mary', 'James', 'Patricia', 'Robert',
  'Jennifer', 'Michael', 'Linda', 'William', 'Elizabeth', 'David', 'Susan', 'Richard', 'Jessica', 'Joseph', 'Sarah', 'Thomas', 'Karen',
  'Charles', 'Nancy', 'Daniel', 'Lisa', 'Matthew', 'Betty', 'Anthony', 'Sandra', 'Mark', 'Ashley', 'Paul', 'Emily', 'Steven', 'Donna',
  'Andrew', 'Michelle', 'Joshua', 'Carol', 'Kenneth', 'Amanda', 'Kevin', 'Melissa', 'Brian',
];
const LAST_NAMES = [
  'Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Ritchie', 'Liskov', 'Thompson', 'Allen', 'Smith', 'Johnson', 'Williams',
  'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Taylor',
  'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young',
  'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson', 'Baker',
];
const COMPANY_WORDS = [
  'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Wonka', 'Cyberdyne', 'Soylent', 'Tyrell', 'Aperture', 'Massive',
  'Dynamic', 'Pied Piper', 'Oscorp', 'Monarch', 'Virtucon', 'Gringotts', 'Nakatomi', 'Duff', 'Oceanic', 'Prestige', 'Sirius', 'Bluth',
  'Dunder Mifflin', 'Gekko', 'Sterling', 'Wernham', 'Hogg', 'Krusty', 'Rich', 'Benthic', 'Axiom', 'Black Mesa', 'Encom', 'Omni', 'Weyland',
  'Yoyodyne', 'Zorg',
];
const COMPANY_SUFFIXES = ['Ltd', 'Inc', 'GmbH', 'LLC', 'Corp', 'Group', 'Partners', 'Holdings'];
const DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com', 'fastmail.com', 'proton.me', 'icloud.com', 'example.com', 'acme.io', 'corp.net', 'mail.de', 'web.de', 'hey.com'];
const SOURCES = ['website_form', 'import', 'n8n', 'activepieces', 'referral', 'event'];

/**
 * Seeds `count` contacts into `tenantId` with one INSERT … SELECT generate_series (deterministic: setseed),
 * created_at spread over the past (30 s apart), then ANALYZE. Returns the ms it took.
 */
export async function seedContacts(client, tenantId, count) {
  const started = performance.now();
  await client.query('SELECT setseed(0.42)');
  await client.query(
    `INSERT INTO contacts (tenant_id, first_name, last_name, email, phone, company, source, custom_fields, created_at, updated_at)
     SELECT $1, f, l,
            lower(f || '.' || l || g) || '@' || d,
            '+1 555 ' || lpad((g % 10000000)::text, 7, '0'),
            cw || ' ' || cs,
            src,
            jsonb_build_object('score', g % 100, 'lifecycle', (ARRAY['lead','mql','sql','customer'])[1 + g % 4]),
            now() - make_interval(secs => g * 30),
            now() - make_interval(secs => g * 30)
       FROM (
         SELECT g,
                ($2::text[])[1 + floor(random() * array_length($2::text[], 1))::int] AS f,
                ($3::text[])[1 + floor(random() * array_length($3::text[], 1))::int] AS l,
                ($4::text[])[1 + floor(random() * array_length($4::text[], 1))::int] AS cw,
                ($5::text[])[1 + floor(random() * array_length($5::text[], 1))::int] AS cs,
                ($6::text[])[1 + floor(random() * array_length($6::text[], 1))::int] AS d,
                ($7::text[])[1 + floor(random() * array_length($7::text[], 1))::int] AS src
           FROM generate_series(1, $8::int) g
       ) s`,
    [tenantId, FIRST_NAMES, LAST_NAMES, COMPANY_WORDS, COMPANY_SUFFIXES, DOMAINS, SOURCES, count],
  );
  await client.query('ANALYZE contacts');
  return performance.now() - started;
}

/** EXPLAIN (ANALYZE, BUFFERS) of LIST_SQL for one q: { text, executionMs, usesTrgm, usesCreatedAtIdx, topNode }. */
export async function explainList(client, tenantId, q) {
  const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${LIST_SQL}`, [tenantId, `%${escapeLike(q.toLowerCase())}%`]);
  const text = rows.map((row) => row['QUERY PLAN']).join('\n');
  const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1]);
  const planningMs = Number(/Planning Time: ([\d.]+) ms/.exec(text)?.[1]);
  // Plan nodes: the first line, and every line starting with "->".
  const nodes = text
    .split('\n')
    .filter((line, index) => index === 0 || line.trim().startsWith('->'))
    .map((line) => /^(?:->\s+)?([A-Z][A-Za-z ]+?)(?: using | on |\s+\()/.exec(line.trim())?.[1])
    .filter(Boolean);
  // The planner's row estimate for the scan under the Limit (the figure its plan choice rests on).
  const scanLine = text.split('\n').find((line) => /Bitmap Index Scan|Index Scan Backward|Seq Scan/.test(line)) ?? '';
  const estimatedRows = Number(/rows=(\d+)/.exec(scanLine)?.[1]);
  return {
    q,
    text,
    estimatedRows,
    executionMs,
    planningMs,
    usesTrgm: text.includes('contacts_search_trgm_idx'),
    usesCreatedAtIdx: text.includes('contacts_tenant_id_created_at_id_idx'),
    nodes: [...new Set(nodes)].join(' > '),
  };
}

/** Part (a): POST /api/contacts with unique emails. */
async function measureCreate(app, client, { duration, connections, warmup, log }) {
  const account = await registerAccount(app, 'contacts-create');
  const runTag = Date.now().toString(36);
  let counter = 0;
  const template = { first_name: 'Ada', last_name: 'Lovelace', phone: '+44 20 7946 0000', company: 'Analytical Engines Ltd', source: 'bench', custom_fields: { score: 87, lifecycle: 'mql' } };
  const setupRequest = (request) => {
    counter += 1;
    request.body = JSON.stringify({ ...template, email: `ada.${runTag}.${counter}@bench.example.com` });
    return request;
  };
  const eventsBefore = Number((await client.query('SELECT count(*) AS n FROM domain_events')).rows[0].n);
  const { before, after, reference, result } = await withBaseline(async () => {
    log(`  POST /api/contacts, c=${connections}, ${duration} s after ${warmup} s warm-up…`);
    const sampler = await startWaitSampler(app.databaseUrl);
    const meter = cpuMeter(app.pid);
    const result = await runAutocannon({
      url: `${app.url}/contacts`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${account.token}` },
      body: JSON.stringify({ ...template, email: 'placeholder@bench.example.com' }),
      setupRequest,
      connections,
      duration,
      warmup,
      title: 'POST /api/contacts',
    });
    result.appCpu = meter.stop();
    result.appCpuCores = result.appCpu.cpuCores;
    result.waits = await sampler.stop();
    return result;
  }, log);
  const counts = (
    await client.query(
      `SELECT (SELECT count(*) FROM contacts WHERE tenant_id = $1) AS contacts,
              (SELECT count(*) FROM domain_events WHERE tenant_id = $1 AND event_name = 'contact.created') AS created_events,
              (SELECT count(*) FROM domain_events) AS all_events,
              (SELECT count(*) FROM webhook_deliveries) AS deliveries,
              (SELECT count(*) FROM webhook_subscriptions) AS subscriptions`,
      [account.tenantId],
    )
  ).rows[0];
  return {
    baselineBefore: before,
    baselineAfter: after,
    baselineReqPerSec: reference,
    create: result,
    requestsSent: counter,
    contactsCreated: Number(counts.contacts),
    domainEventsWritten: Number(counts.all_events) - eventsBefore,
    contactCreatedEvents: Number(counts.created_events),
    webhookDeliveries: Number(counts.deliveries),
    webhookSubscriptions: Number(counts.subscriptions),
  };
}

/** Part (b): GET /api/contacts?q= over `seedCount` contacts of one tenant. */
async function measureList(app, client, { seedCount, queries, listDuration, listConnections, log }) {
  const account = await registerAccount(app, 'contacts-list');
  log(`  seeding ${seedCount} contacts into tenant ${account.tenantId} (one INSERT … SELECT generate_series, then ANALYZE)…`);
  const seedMs = await seedContacts(client, account.tenantId, seedCount);
  log(`  seeded in ${(seedMs / 1000).toFixed(1)} s`);
  const totalContacts = Number((await client.query('SELECT count(*) AS n FROM contacts')).rows[0].n);

  const runs = [];
  for (const { q, what } of queries) {
    const matches = Number(
      (await client.query(`SELECT count(*) AS n FROM contacts c WHERE c.tenant_id = $1 AND ${SEARCH_EXPRESSION} LIKE $2`, [account.tenantId, `%${escapeLike(q.toLowerCase())}%`])).rows[0].n,
    );
    // The page the app returns must be what the SQL we explain returns.
    const page = await api(app, 'GET', `/contacts?q=${encodeURIComponent(q)}`, { token: account.token });
    const byConnections = [];
    for (const connections of listConnections) {
      log(`  GET /api/contacts?q=${q} (${what}; ${matches} matches, page of ${page.data.length}), c=${connections}, ${listDuration} s…`);
      const meter = cpuMeter(app.pid);
      const result = await runAutocannon({
        url: `${app.url}/contacts?q=${encodeURIComponent(q)}`,
        headers: { authorization: `Bearer ${account.token}` },
        connections,
        duration: listDuration,
        warmup: 1,
        title: `GET /api/contacts?q=${q}`,
      });
      result.appCpu = meter.stop();
      result.appCpuCores = result.appCpu.cpuCores;
      byConnections.push(result);
    }
    const plan = await explainList(client, account.tenantId, q);
    runs.push({ q, what, matches, pageSize: page.data.length, results: byConnections, plan });
  }
  return { tenantId: account.tenantId, token: account.token, seedCount, seedMs, totalContacts, runs };
}

/** Part (c): statements per POST and per GET ?q=, from an app with the query counter preloaded. */
async function measureQueries(database, { listTenantToken, sampleQ, log }) {
  const app = await startApp({ databaseUrl: database.url, env: { LOG_LEVEL: 'warn' }, label: 'app (query counter)', countQueries: true });
  try {
    const account = await registerAccount(app, 'contacts-queries');
    const n = 20;
    // One untimed request of each kind first, so one-off start-up statements are not counted.
    await api(app, 'POST', '/contacts', { token: account.token, body: { first_name: 'Warm', email: `warm-${Date.now()}@bench.example.com` } });
    const before = await readQueryCounts(app);
    for (let i = 0; i < n; i++) {
      await api(app, 'POST', '/contacts', {
        token: account.token,
        body: { first_name: 'Grace', last_name: 'Hopper', email: `grace.${Date.now()}.${i}@bench.example.com`, company: 'Navy' },
      });
    }
    const afterPost = await readQueryCounts(app);
    const post = queryDelta(before, afterPost, n);
    let list;
    if (listTenantToken) {
      await api(app, 'GET', `/contacts?q=${encodeURIComponent(sampleQ)}`, { token: listTenantToken });
      const beforeList = await readQueryCounts(app);
      for (let i = 0; i < n; i++) await api(app, 'GET', `/contacts?q=${encodeURIComponent(sampleQ)}`, { token: listTenantToken });
      list = queryDelta(beforeList, await readQueryCounts(app), n);
    }
    log(`  counted over ${n} sequential requests of each kind`);
    return { post, list, n };
  } finally {
    await stopApp(app);
  }
}

export async function measureContacts({
  duration = envSeconds('BENCH_DURATION', 10),
  connections = envInt('BENCH_CONNECTIONS', 50),
  warmup = envSeconds('BENCH_WARMUP', 2),
  listDuration = envSeconds('BENCH_LIST_DURATION', 5),
  listConnections = (process.env.BENCH_LIST_CONNECTIONS ?? '1,10').split(',').map((value) => Number(value.trim())),
  seedCount = envInt('BENCH_SEED_CONTACTS', 100_000),
  queries = process.env.BENCH_QUERIES ? process.env.BENCH_QUERIES.split(',').map((q) => ({ q: q.trim(), what: 'from BENCH_QUERIES' })) : DEFAULT_QUERIES,
  parts = (process.env.BENCH_CONTACTS_PARTS ?? 'create,list,queries').split(',').map((part) => part.trim()),
  log = console.log,
} = {}) {
  ensureBuilt();
  const database = await createScratchDatabase('junction_bench_contacts');
  const client = new pg.Client({ connectionString: database.url });
  client.on('error', (error) => console.error(`[bench] ${database.name}: ${error.message}`));
  let app;
  const out = { parts, failures: [] };
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
  try {
    app = await startApp({ databaseUrl: database.url, env: { LOG_LEVEL: 'warn' }, label: 'app' });
    app.databaseUrl = database.url;
    await client.connect();
    log(`  app pid ${app.pid} on ${app.url}, scratch database ${database.name}`);
    out.create = await attempt('create', () => measureCreate(app, client, { duration, connections, warmup, log }));
    out.list = await attempt('list', () => measureList(app, client, { seedCount, queries, listDuration, listConnections, log }));
    await stopApp(app);
    app = undefined;
    out.queries = await attempt('queries', () =>
      measureQueries(database, { listTenantToken: out.list?.token, sampleQ: out.list?.runs[0]?.q ?? queries[0].q, log }),
    );
    return out;
  } finally {
    await stopApp(app);
    await client.end().catch(() => undefined);
    await database.drop();
  }
}

/** Prints the figures of measureContacts(). */
export function reportContacts(out) {
  for (const failure of out.failures ?? []) console.log(`\n!! part "${failure.part}" FAILED: ${failure.error.split('\n')[0]}`);
  if (out.create) {
    const c = out.create;
    const r = c.create;
    console.log('\n== (a) POST /api/contacts (unique emails) vs the bare Fastify + pg baseline, same run');
    printTable([
      { run: 'baseline before', 'req/s': c.baselineBefore.reqPerSec, 'p50 ms': c.baselineBefore.p50, 'p99 ms': c.baselineBefore.p99, errors: c.baselineBefore.errors, non2xx: c.baselineBefore.non2xx },
      ...(c.baselineAfter ? [{ run: 'baseline after', 'req/s': c.baselineAfter.reqPerSec, 'p50 ms': c.baselineAfter.p50, 'p99 ms': c.baselineAfter.p99, errors: c.baselineAfter.errors, non2xx: c.baselineAfter.non2xx }] : []),
      { run: 'POST /api/contacts', 'req/s': r.reqPerSec, 'p50 ms': r.p50, 'p99 ms': r.p99, errors: r.errors, non2xx: r.non2xx },
    ]);
    const x = r.reqPerSec / c.baselineReqPerSec;
    const met = x >= 0.5 && r.p99 < 100;
    console.log(
      `POST /api/contacts: ${r.reqPerSec.toFixed(0)} req/s, p99 ${r.p99} ms, ${ratio(r.reqPerSec, c.baselineReqPerSec)} the baseline ` +
        `(${c.baselineReqPerSec.toFixed(0)} req/s${c.baselineAfter ? ', mean of before/after' : ''}) — goal ≥ 0.5× with p99 < 100 ms: ${met ? 'MET' : 'NOT MET'}`,
    );
    console.log(
      `  c=${r.connections}, ${r.duration} s; status codes ${JSON.stringify(Object.fromEntries(Object.entries(r.statusCodes ?? {}).map(([code, v]) => [code, v.count])))}; ` +
        `${c.contactsCreated} contacts created (warm-up included), ${c.domainEventsWritten} domain_events rows written ` +
        `(${c.contactCreatedEvents} contact.created: one per contact), ${c.webhookDeliveries} webhook_deliveries ` +
        `(${c.webhookSubscriptions} subscriptions, so the fan-out INSERT … SELECT finds nothing to deliver).`,
    );
    console.log('  Each request = bearer-token lookup (cached, behind a LISTEN barrier) + a share of a group-commit transaction: one multi-row contacts INSERT, one domain_events INSERT, one fan-out; see (c) for the statements per request.');
    console.log(`  app process during the run: ${formatCpu(r.appCpu)} (${os.cpus().length} cores)`);
    console.log(`  its PostgreSQL backends (mean number per sample of pg_stat_activity): ${formatWaits(r.waits)}`);
  }
  if (out.list) {
    const l = out.list;
    console.log(`\n== (b) GET /api/contacts?q= over ${l.seedCount} contacts in one tenant (${l.totalContacts} in the table; seeded in ${(l.seedMs / 1000).toFixed(1)} s)`);
    printTable(
      l.runs.flatMap((run) =>
        run.results.map((result) => ({
          q: run.q,
          matches: run.matches,
          c: result.connections,
          'req/s': result.reqPerSec,
          'p50 ms': result.p50,
          'p99 ms': result.p99,
          non2xx: result.non2xx,
          'app CPU cores': result.appCpuCores,
          'app queued %': result.appCpu?.mainThreadRunQueue === undefined ? undefined : Math.round(result.appCpu.mainThreadRunQueue * 100),
          'SQL exec ms': run.plan.executionMs,
          'est rows': run.plan.estimatedRows,
          'trgm idx': run.plan.usesTrgm ? 'yes' : 'no',
          plan: run.plan.nodes,
        })),
      ),
    );
    for (const connections of [...new Set(l.runs.flatMap((run) => run.results.map((result) => result.connections)))]) {
      const worst = Math.max(...l.runs.flatMap((run) => run.results.filter((result) => result.connections === connections).map((result) => result.p99)));
      console.log(`worst p99 at c=${connections}: ${worst} ms — goal p99 < 50 ms: ${worst < 50 ? 'MET' : 'NOT MET'}`);
    }
    console.log('  ("est rows" is the planner\'s estimate for the scan; "SQL exec ms" the Execution Time of EXPLAIN ANALYZE run once after the load;');
    console.log('   "app queued %": share of the time the app\'s event-loop thread was runnable but waiting for a CPU)');
    const shown = [l.runs[0], l.runs.reduce((a, b) => (b.plan.executionMs > a.plan.executionMs ? b : a))].filter((run, index, all) => all.indexOf(run) === index);
    for (const run of shown) {
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS) of the list query for q=${run.q} (tenant_id = $1, the LIKE '%${run.q}%' predicate, ORDER BY created_at DESC, id DESC LIMIT 51):`);
      console.log(run.plan.text);
    }
  }
  if (out.queries) {
    console.log('\n== (c) SQL statements per request (app with bench/query-counter.mjs preloaded)');
    console.log('POST /api/contacts:');
    printQueryDelta(out.queries.post, 'request');
    if (out.queries.list) {
      console.log('\nGET /api/contacts?q=:');
      printQueryDelta(out.queries.list, 'request');
    }
  }
}

/** A JSON-friendly copy (no autocannon raw results, no plan text duplication issues). */
export function contactsFigures(out) {
  return {
    create: out.create && {
      ...out.create,
      baselineBefore: figures(out.create.baselineBefore),
      baselineAfter: figures(out.create.baselineAfter),
      create: figures(out.create.create),
      ratio: out.create.create.reqPerSec / out.create.baselineReqPerSec,
    },
    list: out.list && { ...out.list, token: undefined, runs: out.list.runs.map((run) => ({ ...run, results: run.results.map(figures) })) },
    failures: out.failures,
    queries: out.queries && {
      post: { total: out.queries.post.total, perRequest: out.queries.post.perUnit, statements: out.queries.post.rows },
      list: out.queries.list && { total: out.queries.list.total, perRequest: out.queries.list.perUnit, statements: out.queries.list.rows },
    },
  };
}

if (isMain(import.meta.url)) {
  const before = loadCheck('start');
  console.log(`contacts benchmark (node ${process.version}, ${before.cores} cores)`);
  console.log(before.text);
  const build = await buildSnapshot();
  console.log(`app: a snapshot of dist/ (newest file ${build.builtAt.toISOString()}) run as node dist/src/main.js`);
  const out = await measureContacts();
  reportContacts(out);
  const problems = contactsProblems(out);
  if (problems.length) {
    console.error(`\nproblems:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
  console.log(`\n${loadCheck('end').text} (includes the benchmark's own processes)`);
  if (before.busy) console.log('NOTE: the machine was busy before the run started (see the load average): treat the figures as lower bounds.');
}

/** Summary rows for bench/run-all.mjs. */
export function contactsSummaryRows(out) {
  const rows = [];
  if (out.create) {
    const r = out.create.create;
    rows.push({ figure: 'POST /api/contacts req/s', value: Math.round(r.reqPerSec) });
    rows.push({ figure: 'POST /api/contacts p99 ms', value: r.p99 });
    rows.push({ figure: 'POST /api/contacts ÷ baseline (goal ≥ 0.5)', value: Number((r.reqPerSec / out.create.baselineReqPerSec).toFixed(2)) });
  }
  if (out.list) {
    for (const connections of [...new Set(out.list.runs.flatMap((run) => run.results.map((result) => result.connections)))]) {
      const p99s = out.list.runs.flatMap((run) => run.results.filter((result) => result.connections === connections).map((result) => result.p99));
      rows.push({ figure: `GET /api/contacts?q= worst p99 ms at c=${connections} (goal < 50)`, value: Math.max(...p99s) });
    }
  }
  if (out.queries) rows.push({ figure: 'SQL statements per POST /api/contacts', value: Number(out.queries.post.perUnit.toFixed(2)) });
  return rows;
}

/** Errors or non-2xx answers that make the figures invalid. */
export function contactsProblems(out) {
  const problems = (out.failures ?? []).map((failure) => `contacts part "${failure.part}" failed: ${failure.error.split('\n')[0]}`);
  const check = (label, result) => {
    if (result && (result.errors || result.timeouts || result.non2xx)) problems.push(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  };
  if (out.create) {
    check('contacts baseline (before)', out.create.baselineBefore);
    check('contacts baseline (after)', out.create.baselineAfter);
    check('POST /api/contacts', out.create.create);
  }
  for (const run of out.list?.runs ?? []) for (const result of run.results) check(`GET /api/contacts?q=${run.q} c=${result.connections}`, result);
  return problems;
}
