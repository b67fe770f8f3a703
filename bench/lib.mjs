// Shared helpers for the benchmark scripts in bench/. Plain ESM, no build step.
//
// Every process started here is stopped by the PID we got back from spawn(); nothing is ever killed by name.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = path.resolve(BENCH_DIR, '..');
export const APP_ENTRY = path.join(ROOT_DIR, 'dist', 'src', 'main.js');

/** Admin connection used to create and drop scratch databases. Override with BENCH_PG_URL. */
export const ADMIN_PG_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A representative inbound-webhook body (~0.5 KB of JSON). The baseline and any later ingest benchmark
 * should send this same body so that their figures compare.
 */
export const SAMPLE_EVENT = {
  event: 'contact.created',
  occurredAt: '2025-01-01T12:00:00.000Z',
  source: 'n8n',
  data: {
    externalId: 'crm-000123',
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada.lovelace@example.com',
    phone: '+44 20 7946 0000',
    company: 'Analytical Engines Ltd',
    tags: ['lead', 'newsletter', 'webinar-2025'],
    address: { line1: '12 St James Square', city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
    custom: { score: 87, lifecycle: 'mql', consent: true, utm: { source: 'linkedin', medium: 'social', campaign: 'q1' } },
  },
};
export const SAMPLE_EVENT_BODY = JSON.stringify(SAMPLE_EVENT);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds from env `name` (a positive number), else `fallback`. */
export function envSeconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number of seconds, got "${raw}"`);
  return value;
}

/** A positive integer from env `name`, else `fallback`. */
export function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return value;
}

/** A free TCP port on 127.0.0.1 (bound then released; there is a small race, as always with this trick). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `url` until it answers with an accepted status (200 by default), every `intervalMs`.
 * Rejects after `timeoutMs`, or as soon as `abortSignal` aborts (used to stop waiting when the server
 * process exits). Resolves with the number of ms waited.
 */
export async function waitForHttp(url, timeoutMs = 30_000, { method = 'GET', accept = (status) => status === 200, intervalMs = 20, abortSignal } = {}) {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let lastProblem = 'no answer yet';
  while (performance.now() < deadline) {
    if (abortSignal?.aborted) throw abortSignal.reason instanceof Error ? abortSignal.reason : new Error(String(abortSignal.reason));
    try {
      const response = await fetch(url, { method, signal: AbortSignal.timeout(Math.max(250, Math.min(5_000, deadline - performance.now()))) });
      await response.arrayBuffer().catch(() => undefined);
      if (accept(response.status)) return performance.now() - started;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = error?.cause?.code ?? error?.code ?? error?.message ?? String(error);
    }
    await sleep(intervalMs);
  }
  throw new Error(`${method} ${url} did not answer as expected within ${timeoutMs} ms (last: ${lastProblem})`);
}

/**
 * Runs autocannon in this process against a server in ANOTHER process and returns the figures the
 * benchmarks compare. Pass either `body` (a string, or an object sent as JSON) or `setupRequest`
 * (autocannon's per-request hook, e.g. to vary the body or sign it).
 *
 * Returns { reqPerSec (mean of the per-second samples), p50, p99 (latency ms), errors, timeouts, non2xx, total, raw }.
 */
export async function runAutocannon({
  url,
  method = 'GET',
  headers = {},
  body,
  setupRequest,
  connections = 50,
  duration = 10,
  warmup = 0,
  pipelining = 1,
  title,
}) {
  const finalHeaders = { ...headers };
  let finalBody = body;
  if (finalBody !== undefined && typeof finalBody !== 'string' && !Buffer.isBuffer(finalBody)) {
    finalBody = JSON.stringify(finalBody);
    if (!Object.keys(finalHeaders).some((name) => name.toLowerCase() === 'content-type')) finalHeaders['content-type'] = 'application/json';
  }
  const options = {
    url,
    method,
    headers: finalHeaders,
    connections,
    duration,
    pipelining,
    title,
    renderProgressBar: false,
    renderResultsTable: false,
    renderLatencyTable: false,
  };
  if (setupRequest) {
    options.requests = [{ method, headers: finalHeaders, body: finalBody, setupRequest }];
  } else if (finalBody !== undefined) {
    options.body = finalBody;
  }
  if (warmup > 0) options.warmup = { connections, duration: warmup };

  const result = await autocannon(options);
  return {
    reqPerSec: result.requests.mean,
    p50: result.latency.p50,
    p99: result.latency.p99,
    latencyMean: result.latency.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
    statusCodes: result.statusCodeStats,
    connections,
    duration,
    raw: result,
  };
}

/** Runs `npm run build` when dist/src/main.js is missing. */
export function ensureBuilt() {
  // The same freshness-checked build as `npm test` and `npm start` (scripts/build.mjs recompiles only what
  // changed, and nothing when dist/ is current), so a benchmark never measures a stale build.
  const result = spawnSync(process.execPath, [path.join(ROOT_DIR, 'scripts', 'build.mjs'), '--quiet'], { cwd: ROOT_DIR, stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(APP_ENTRY)) throw new Error(`node scripts/build.mjs failed (exit ${result.status})`);
}

/** Keeps the last `limit` characters written to it, to explain a failed start. */
function tailBuffer(limit = 16_000) {
  let text = '';
  return {
    push(chunk) {
      text += chunk.toString();
      if (text.length > limit) text = text.slice(-limit);
    },
    get text() {
      return text;
    },
  };
}

/**
 * Starts a Node script as a child process and returns a handle whose stop() sends SIGTERM to that PID
 * only and waits for it to exit (SIGKILL to the same PID after `killAfterMs`).
 * `env` is merged over process.env; a key set to undefined or null is removed.
 */
/** The highest VmHWM (MB) of every process spawnNode started and stopped in this run, read just before its SIGTERM. */
let peakRssMB = 0;
export function peakRss() {
  return peakRssMB;
}

function notePeakRss(pid) {
  try {
    const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    peakRssMB = Math.max(peakRssMB, kb / 1024);
  } catch {
    // gone already, or no /proc
  }
}

export function spawnNode(script, args = [], { env = {}, cwd = ROOT_DIR, killAfterMs = 20_000, echo = false } = {}) {
  const childEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || value === null) delete childEnv[key];
    else childEnv[key] = String(value);
  }
  const child = spawn(process.execPath, [script, ...args], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = tailBuffer();
  child.stdout.on('data', (chunk) => {
    output.push(chunk);
    if (echo) process.stdout.write(chunk);
  });
  child.stderr.on('data', (chunk) => {
    output.push(chunk);
    if (echo) process.stderr.write(chunk);
  });

  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  let exitInfo;
  void exited.then((info) => {
    exitInfo = info;
  });
  // Lets a waiter stop polling when the process dies during start-up.
  const exitController = new AbortController();
  void exited.then((info) => exitController.abort(new Error(`process ${child.pid} exited early (code ${info.code}, signal ${info.signal}${info.error ? `, ${info.error.message}` : ''})`)));

  async function stop() {
    if (exitInfo) return exitInfo;
    notePeakRss(child.pid);
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const timer = new Promise((resolve) => setTimeout(() => resolve('timeout'), killAfterMs));
    if ((await Promise.race([exited, timer])) === 'timeout') {
      console.error(`[bench] pid ${child.pid} did not exit ${killAfterMs} ms after SIGTERM: sending SIGKILL to that pid`);
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return exited;
  }

  return {
    child,
    pid: child.pid,
    exited,
    exitSignal: exitController.signal,
    get output() {
      return output.text;
    },
    stop,
  };
}

/**
 * Starts the BUILT app (`node dist/src/main.js`, building first if missing) on a free loopback port.
 * Returns { child, pid, url (…/api), port, output, exited, exitSignal, stop() }. The child gets
 * PORT/HOST, LOG_LEVEL=warn (unless given) and then `env`; to use the embedded PostgreSQL pass
 * `DATABASE_URL: undefined` so an inherited one is removed.
 */
export async function spawnApp({ env = {}, echo = false, killAfterMs = 30_000 } = {}) {
  ensureBuilt();
  const port = await freePort();
  const handle = spawnNode(APP_ENTRY, [], {
    // As users start it: the app takes its own memory settings (docs/operations.md, "Memory").
    env: { LOG_LEVEL: 'warn', ...env, PORT: port, HOST: '127.0.0.1' },
    echo,
    killAfterMs,
  });
  // Not spread: `output` is a getter that must stay live.
  handle.port = port;
  handle.url = `http://127.0.0.1:${port}/api`;
  return handle;
}

/** Creates a uniquely named database on BENCH_PG_URL's server (127.0.0.1:5432) and returns { name, url, drop() }. */
export async function createScratchDatabase(prefix = 'junction_bench') {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: ADMIN_PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_PG_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const client = new pg.Client({ connectionString: ADMIN_PG_URL });
      await client.connect();
      try {
        // WITH (FORCE) (PostgreSQL 13+) ends sessions a crashed child may have left behind.
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Prints an array of flat objects as an aligned text table (numbers right-aligned). */
export function printTable(rows, { columns } = {}) {
  if (!rows.length) {
    console.log('(no rows)');
    return;
  }
  const keys = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value) => {
    if (value === undefined || value === null) return '';
    if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2);
    return String(value);
  };
  const cells = rows.map((row) => keys.map((key) => cell(row[key])));
  const widths = keys.map((key, index) => Math.max(key.length, ...cells.map((line) => line[index].length)));
  const numeric = keys.map((key) => rows.every((row) => row[key] === undefined || row[key] === null || typeof row[key] === 'number'));
  const format = (line) => line.map((text, index) => (numeric[index] ? text.padStart(widths[index]) : text.padEnd(widths[index]))).join('  ');
  console.log(format(keys));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const line of cells) console.log(format(line));
}

/** min / median / max of a list of numbers. */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/** "0.42x" for a figure relative to the baseline (higher is better for req/s). */
export function ratio(value, baseline) {
  if (!baseline) return 'n/a';
  return `${(value / baseline).toFixed(2)}x`;
}

/** True when this module was run directly (`node bench/x.mjs`), not imported. */
export function isMain(importMetaUrl) {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(importMetaUrl);
}

/**
 * The 1-minute load average, and a warning when the machine is already busy: on 2 cores any other build
 * or test run skews every figure here, so a run with a warning is not a result to record. Only the check
 * at 'start' warns by default: later the load includes the benchmark's own processes.
 */
export function loadCheck(when = 'start', { warn = when === 'start' } = {}) {
  const load1 = os.loadavg()[0];
  const cores = os.cpus().length;
  const busy = load1 > cores / 2;
  const text = `load average (1 min) at ${when}: ${load1.toFixed(2)} on ${cores} cores`;
  if (busy && warn) console.error(`[bench] WARNING ${text}: the machine is busy with other work, figures will be skewed`);
  return { when, load1, cores, busy, text };
}
