// Helpers shared by bench/contacts.mjs and bench/inbound.mjs: start the built app on a scratch database,
// register an account through the API, read the query counter (bench/query-counter.mjs), bracket a
// measurement with baseline runs. Plain ESM; every process is stopped by its own PID (see lib.mjs).

import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { measureBaseline } from './baseline-ingest.mjs';
import { APP_ENTRY, BENCH_DIR, ROOT_DIR, ensureBuilt, freePort, printTable, sleep, spawnApp, spawnNode, waitForHttp } from './lib.mjs';

const START_TIMEOUT_MS = 120_000;

/** Newest modification time (ms) of any file under `dir`. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

let snapshot;

/**
 * A private copy of the built app (dist/ + package.json, node_modules symlinked) under os.tmpdir(), taken
 * once per benchmark process and removed at exit. `nest build` deletes and rewrites dist/ (deleteOutDir), so
 * a build run by anyone else during a long benchmark would otherwise break the next app start or mix two
 * builds into one run. Waits until dist/ has been quiet for 5 s before copying. BENCH_DIST_IN_PLACE=1 runs
 * dist/src/main.js itself instead (lib.mjs spawnApp).
 * Returns { entry, builtAt (newest file time in the copy) }.
 */
export async function buildSnapshot() {
  if (snapshot) return snapshot;
  ensureBuilt();
  const dist = path.join(ROOT_DIR, 'dist');
  for (let waited = 0; ; waited += 1) {
    const quietFor = existsSync(APP_ENTRY) ? Date.now() - newestMtime(dist) : 0;
    if (quietFor >= 5_000) break;
    if (waited === 0) console.error('[bench] dist/ is being written (a build is running?): waiting for it to be quiet for 5 s');
    if (waited > 600) throw new Error('dist/ did not settle within 10 minutes');
    await sleep(1_000);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'junction-bench-build-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  cpSync(dist, path.join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
  cpSync(path.join(ROOT_DIR, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(ROOT_DIR, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  snapshot = { dir, entry: path.join(dir, 'dist', 'src', 'main.js'), builtAt: new Date(newestMtime(path.join(dir, 'dist'))) };
  return snapshot;
}

/** spawnApp() (lib.mjs) on the build snapshot: same env handling, port and returned handle. */
async function spawnSnapshotApp({ env = {}, killAfterMs = 30_000 } = {}) {
  if (process.env.BENCH_DIST_IN_PLACE === '1') return spawnApp({ env, killAfterMs });
  const { entry } = await buildSnapshot();
  const port = await freePort();
  const handle = spawnNode(entry, [], {
    env: { LOG_LEVEL: 'warn', ...env, PORT: port, HOST: '127.0.0.1' },
    killAfterMs,
  });
  handle.port = port;
  handle.url = `http://127.0.0.1:${port}/api`;
  return handle;
}

/**
 * Starts the built app (a snapshot of dist/, see buildSnapshot) on `databaseUrl` and waits until it serves GET /api/health (or, for
 * APP_ROLE=worker, which serves no HTTP, until `ready()` resolves if given). `countQueries` preloads the
 * query counter. Returns the spawnApp handle plus { queryCountFile }.
 */
export async function startApp({ databaseUrl, env = {}, label = 'app', countQueries = false, cpuProfileFile, ready } = {}) {
  const queryCountFile = countQueries ? path.join(os.tmpdir(), `junction-bench-queries-${process.pid}-${Date.now()}.json`) : undefined;
  const childEnv = {
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    DATA_DIR: undefined,
    ...env,
  };
  if (countQueries) {
    const preload = pathToFileURL(path.join(BENCH_DIR, 'query-counter.mjs')).href;
    childEnv.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
    childEnv.BENCH_QUERY_COUNT_FILE = queryCountFile;
  } else if (cpuProfileFile) {
    const preload = pathToFileURL(path.join(BENCH_DIR, 'cpu-profiler.mjs')).href;
    childEnv.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
    childEnv.BENCH_CPU_PROFILE_FILE = cpuProfileFile;
  }
  const app = await spawnSnapshotApp({ env: childEnv });
  app.queryCountFile = queryCountFile;
  app.label = label;
  try {
    if ((env.APP_ROLE ?? 'all') === 'worker') {
      if (ready) await ready(app);
    } else {
      await waitForHttp(`${app.url}/health`, START_TIMEOUT_MS, { abortSignal: app.exitSignal });
    }
  } catch (error) {
    await app.stop();
    throw new Error(`${label} did not start: ${error.message}\n--- app output (tail) ---\n${app.output}`);
  }
  return app;
}

/** Stops the app (SIGTERM to its PID) and removes its query-count file. */
export async function stopApp(app) {
  if (!app) return;
  const exit = await app.stop();
  if (app.queryCountFile) await rm(app.queryCountFile, { force: true });
  if (exit.code !== 0 && exit.signal !== 'SIGTERM') console.error(`[bench] ${app.label} (pid ${app.pid}) exited with code ${exit.code} signal ${exit.signal}\n${app.output}`);
  return exit;
}

/** JSON request to the app; throws with the body on an unexpected status. */
export async function api(app, method, route, { body, token, headers = {}, expect = [200, 201, 202, 204] } = {}) {
  const response = await fetch(`${app.url}${route}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!expect.includes(response.status)) throw new Error(`${method} ${route} → ${response.status}: ${text.slice(0, 500)}`);
  return json;
}

/** Registers a new tenant with its admin through POST /api/auth/register: { token, tenantId, email }. */
export async function registerAccount(app, label = 'bench') {
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const email = `${label}-${suffix}@bench.example.com`;
  const session = await api(app, 'POST', '/auth/register', {
    body: { email, password: 'bench-password-123', name: `Bench ${label}`, tenant_name: `Bench ${label} ${suffix}` },
  });
  return { token: session.token, tenantId: session.tenant.id, email };
}

/** Generates the tenant's inbound webhook API key through POST /api/tenants/current/webhook-api-key. */
export async function createWebhookApiKey(app, token) {
  const key = await api(app, 'POST', '/tenants/current/webhook-api-key', { token, body: {} });
  return key.api_key;
}

/** The query counter's figures so far: { total, statements: Map<sql, count> }. */
export async function readQueryCounts(app) {
  if (!app.queryCountFile) throw new Error(`${app.label} was not started with countQueries`);
  await rm(app.queryCountFile, { force: true });
  process.kill(app.pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    try {
      const { total, statements } = JSON.parse(await readFile(app.queryCountFile, 'utf8'));
      return { total, statements: new Map(Object.entries(statements)) };
    } catch {
      await sleep(20);
    }
  }
  throw new Error(`no query counts from ${app.label} (pid ${app.pid})`);
}

/** The statements run between two readQueryCounts() snapshots, per unit of work, most frequent first. */
export function queryDelta(before, after, units) {
  const rows = [];
  for (const [sql, count] of after.statements) {
    const delta = count - (before.statements.get(sql) ?? 0);
    if (delta > 0) rows.push({ sql, count: delta, perUnit: delta / units });
  }
  rows.sort((a, b) => b.count - a.count);
  return { total: after.total - before.total, perUnit: (after.total - before.total) / units, rows };
}

/** Prints queryDelta() as a table, each statement shortened to `width` characters. */
export function printQueryDelta(delta, unitName, width = 110) {
  console.log(`${delta.total} statements, ${delta.perUnit.toFixed(2)} per ${unitName}:`);
  printTable(
    delta.rows.map((row) => ({ [`per ${unitName}`]: Number(row.perUnit.toFixed(2)), statement: row.sql.length > width ? `${row.sql.slice(0, width - 1)}…` : row.sql })),
  );
}

/**
 * Runs the bare Fastify + pg baseline before `measure()` and, unless BENCH_BASELINE_BRACKET=0, again after
 * it, so a machine whose load changes during the run shows up as two different baselines.
 * Returns { before, after, reference (mean req/s of the runs), result }.
 */
export async function withBaseline(measure, log = console.log) {
  log('  baseline (bare Fastify + pg, one jsonb insert per request)…');
  const before = await measureBaseline();
  log(`  baseline before: ${before.reqPerSec.toFixed(0)} req/s, p99 ${before.p99} ms`);
  const result = await measure();
  let after;
  if (process.env.BENCH_BASELINE_BRACKET !== '0') {
    log('  baseline again (after)…');
    after = await measureBaseline();
    log(`  baseline after: ${after.reqPerSec.toFixed(0)} req/s, p99 ${after.p99} ms`);
  }
  const runs = [before, after].filter(Boolean);
  const reference = runs.reduce((sum, run) => sum + run.reqPerSec, 0) / runs.length;
  return { before, after, reference, result };
}

/** Percentiles (nearest rank) of a list of numbers. */
export function percentiles(values, ps = [50, 95, 99]) {
  const sorted = [...values].sort((a, b) => a - b);
  const out = {};
  for (const p of ps) out[`p${p}`] = sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
  out.max = sorted[sorted.length - 1];
  return out;
}

/** Strips autocannon's raw result (large) from figures meant for JSON output. */
export function figures(result) {
  if (!result) return result;
  const { raw: _raw, ...rest } = result;
  return rest;
}

/** The fields of /proc/<pid>/stat after "pid (comm)": state first, then ppid, … (Linux); undefined when it is gone. */
function procStatFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) used so far by process `pid`, from /proc (Linux); undefined elsewhere. */
export function processCpuSeconds(pid) {
  const fields = procStatFields(pid);
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) state".
  return fields && (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The parent of process `pid` (PostgreSQL's postmaster, given one of its backends). */
export function parentPid(pid) {
  return Number(procStatFields(pid)[1]);
}

/**
 * CPU seconds of a server process and its children: its own utime + stime, what its children that exited
 * used (cutime + cstime: the postmaster reaps its backends), and what its live children used so far.
 */
export function serverCpuSeconds(pid) {
  const own = procStatFields(pid);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // A child that exited meanwhile has no stat left: its time is in the parent's cutime/cstime now.
    const fields = procStatFields(entry);
    if (fields && Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

/** CPU seconds this machine's cores have been busy (/proc/stat: user, nice, system, irq, softirq; not idle, iowait or steal). */
export function machineCpuSeconds() {
  const [, user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq) / 100;
}

/**
 * Samples pg_stat_activity of the database at `databaseUrl` every `intervalMs` until stop() is called, and
 * returns what its active backends were doing: { samples, waits: [{ wait, share }] } where `wait` is
 * wait_event_type:wait_event ("CPU" when not waiting) and `share` the mean number of backends in it.
 * "Client:ClientRead" inside a transaction means the backend waits for the app's next statement.
 */
export async function startWaitSampler(databaseUrl, { intervalMs = 50 } = {}) {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  const counts = new Map();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query(
        `SELECT CASE WHEN wait_event IS NULL THEN 'CPU' ELSE wait_event_type || ':' || wait_event END AS wait,
                CASE WHEN state = 'idle in transaction' THEN ' (idle in transaction)' ELSE '' END AS tx, count(*)::int AS n
           FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
          GROUP BY 1, 2`,
      );
      samples += 1;
      for (const row of rows) counts.set(row.wait + row.tx, (counts.get(row.wait + row.tx) ?? 0) + row.n);
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop.catch(() => undefined);
      await client.end().catch(() => undefined);
      const waits = [...counts].map(([wait, n]) => ({ wait, share: n / Math.max(1, samples) })).sort((a, b) => b.share - a.share);
      return { samples, waits };
    },
  };
}

/** "Lock:object 7.9, IO:WALSync 0.6, …": mean backends per wait, the top `limit`. */
export function formatWaits(result, limit = 5) {
  if (!result?.samples) return 'no samples';
  return result.waits
    .slice(0, limit)
    .map((entry) => `${entry.wait} ${entry.share.toFixed(1)}`)
    .join(', ');
}

/**
 * Scheduler figures of process `pid`'s main thread (the event loop) from /proc/<pid>/schedstat (Linux):
 * { onCpu, waiting } in seconds, waiting = time it was runnable but queued for a CPU. Undefined elsewhere.
 */
export function schedSeconds(pid) {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { onCpu: onCpu / 1e9, waiting: waiting / 1e9 };
  } catch {
    return undefined;
  }
}

/** Tracks one process's CPU use and run-queue wait over an interval: start() … stop() → figures per second of wall time. */
export function cpuMeter(pid) {
  const cpu0 = processCpuSeconds(pid);
  const sched0 = schedSeconds(pid);
  const t0 = performance.now();
  return {
    stop() {
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = processCpuSeconds(pid);
      const sched1 = schedSeconds(pid);
      return {
        wallSeconds: wall,
        cpuCores: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / wall,
        mainThreadOnCpu: sched0 && sched1 ? (sched1.onCpu - sched0.onCpu) / wall : undefined,
        mainThreadRunQueue: sched0 && sched1 ? (sched1.waiting - sched0.waiting) / wall : undefined,
      };
    },
  };
}

/** "0.48 cores; event loop thread on CPU 41% of the time, runnable but waiting for a CPU 35%". */
export function formatCpu(meter) {
  if (!meter || meter.cpuCores === undefined) return 'n/a';
  const pct = (value) => `${Math.round(value * 100)}%`;
  return (
    `${meter.cpuCores.toFixed(2)} cores (all threads); event-loop thread on a CPU ${pct(meter.mainThreadOnCpu)} of the time, ` +
    `runnable but queued for a CPU ${pct(meter.mainThreadRunQueue)}`
  );
}
