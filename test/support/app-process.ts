import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep } from './helpers.js';

/**
 * The BUILT app (`node dist/src/main.js`) as a child process, for tests that need a real process: SIGKILL
 * mid-work, several instances on one database. Every process is stopped by its own PID, never by name.
 *
 * `npm test` builds first (pretest); when a file is run directly, startAppProcess() builds if dist/src/main.js
 * is missing or older than the newest file in src/.
 */

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const APP_ENTRY = path.join(ROOT_DIR, 'dist', 'src', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.isFile()) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  return !existsSync(APP_ENTRY) || statSync(APP_ENTRY).mtimeMs < newestMtime(path.join(ROOT_DIR, 'src'));
}

/**
 * Runs `npm run build` when dist/src/main.js is missing or older than src/. Test files run in parallel
 * processes, so the build holds a lock directory: one process builds, the others wait for it.
 */
let built: Promise<void> | null = null;
export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    const lock = path.join(ROOT_DIR, 'node_modules', '.cache', 'junction-app-process-build.lock');
    mkdirSync(path.dirname(lock), { recursive: true });
    const deadline = Date.now() + 180_000;
    while (isStale()) {
      try {
        mkdirSync(lock);
      } catch {
        // Another test process is building (or died building: a lock older than 3 minutes is stale).
        const held = statSync(lock, { throwIfNoEntry: false });
        if (held && Date.now() - held.mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
        if (Date.now() > deadline) throw new Error(`waited 180 s for another process to build (lock ${lock})`);
        await sleep(500);
        continue;
      }
      try {
        if (!isStale()) break;
        console.warn('[app-process] dist/src/main.js is missing or older than src/: running npm run build');
        const code = await new Promise<number | null>((resolve) => {
          const build = spawn('npm', ['run', 'build'], { cwd: ROOT_DIR, stdio: 'inherit' });
          build.once('exit', resolve);
          build.once('error', () => resolve(null));
        });
        if (code !== 0 || !existsSync(APP_ENTRY)) throw new Error(`npm run build failed (exit ${code})`);
        // The build may leave main.js untouched when it is unchanged: mark it as fresh.
        if (isStale()) {
          const now = new Date();
          utimesSync(APP_ENTRY, now, now);
        }
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    }
  })();
  return built;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AppProcess {
  /** Base URL of the API, e.g. http://127.0.0.1:41234/api */
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<ExitInfo>;
  /** The last ~32 KB of stdout + stderr, to explain a failure. */
  readonly output: string;
  /** Sends `signal` to this process's PID (no-op once it has exited). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then waits for exit; SIGKILL to the same PID if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

export interface StartAppOptions {
  databaseUrl: string;
  /** Merged over the defaults; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  startTimeoutMs?: number;
  /** Also copies the child's output to this process's stderr. */
  echo?: boolean;
}

/** Every app process started here and not yet exited, so a failed test can still stop them. */
const live = new Set<AppProcess>();

/**
 * Starts `node dist/src/main.js` on a free loopback port with the given database and waits until GET
 * /api/health answers 200. The child does not inherit DATABASE_URL or the like from the test process.
 */
export async function startAppProcess(options: StartAppOptions): Promise<AppProcess> {
  await ensureBuilt();
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  const merged: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ...options.env,
    DATABASE_URL: options.databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) env[key] = value;

  const child = spawn(process.execPath, [APP_ENTRY], { cwd: ROOT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 32_000) output = output.slice(-32_000);
    if (options.echo) process.stderr.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  let exitInfo: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', () => {
      exitInfo ??= { code: null, signal: null };
      resolve(exitInfo);
    });
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${APP_ENTRY}`);
  const pid = child.pid;

  const handle: AppProcess = {
    url: `http://127.0.0.1:${port}/api`,
    port,
    pid,
    child,
    exited,
    get output() {
      return output;
    },
    kill(signal) {
      if (exitInfo) return;
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
    async stop(graceMs = 20_000) {
      if (exitInfo) return exitInfo;
      handle.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const first = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (first === 'timeout') {
        console.warn(`[app-process] pid ${pid} still running ${graceMs} ms after SIGTERM: sending SIGKILL to that pid`);
        handle.kill('SIGKILL');
      }
      return exited;
    },
  };
  live.add(handle);
  void exited.then(() => live.delete(handle));

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exitInfo) throw new Error(`app process ${pid} exited during start-up (${JSON.stringify(exitInfo)}):\n${output}`);
    try {
      const response = await fetch(`${handle.url}/health`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return handle;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    }
    await sleep(50);
  }
  await handle.stop(5_000);
  throw new Error(`app process ${pid} did not answer GET /api/health 200 within the start timeout (last: ${last}):\n${output}`);
}

export interface FinishedApp extends ExitInfo {
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  elapsedMs: number;
}

/**
 * Runs the built app with exactly `env` (plus PATH and HOME) until it exits on its own, for start-ups that
 * must fail; SIGKILLs its PID and rejects if it is still running after `timeoutMs`.
 */
export async function runAppToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<FinishedApp> {
  await ensureBuilt();
  const childEnv: Record<string, string> = { ...env };
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[key] !== undefined) childEnv[key] ??= process.env[key]!;
  const started = Date.now();
  const child = spawn(process.execPath, [APP_ENTRY], { cwd: ROOT_DIR, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timer: NodeJS.Timeout | undefined;
  try {
    const exit = await new Promise<ExitInfo>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
      timer = setTimeout(() => {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        reject(new Error(`the app was still running after ${timeoutMs} ms:\n${stdout}${stderr}`));
      }, timeoutMs);
    });
    return { ...exit, stdout, stderr, elapsedMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Stops (SIGTERM, then SIGKILL by PID) every app process started here that is still running. */
export async function stopAllAppProcesses(): Promise<void> {
  await Promise.all([...live].map((app) => app.stop()));
}

// ---------------------------------------------------------------------------------------------------------------
// Calling the API over real HTTP

export interface HttpResponse<T = any> {
  status: number;
  body: T;
}

/** One HTTP request to the API with fetch; JSON in, JSON (or text) out. */
export async function callApi<T = any>(baseUrl: string, method: string, route: string, options: { token?: string; body?: unknown } = {}): Promise<HttpResponse<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
  return { status: response.status, body: body as T };
}

export interface Account {
  token: string;
  tenantId: string;
  userId: string;
  email: string;
}

/** Registers a new tenant with its admin; returns the admin's token. */
export async function registerTenant(baseUrl: string, name = 'acme'): Promise<Account> {
  const email = `${name}-${randomBytes(4).toString('hex')}@example.com`;
  const response = await callApi(baseUrl, 'POST', '/auth/register', {
    body: { email, password: 'correct horse battery staple', name: `Admin of ${name}`, tenant_name: name },
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { token: response.body.token, tenantId: response.body.tenant.id, userId: response.body.user.id, email };
}

/** Subscribes `targetUrl` to `eventName`; returns the subscription (with its secret). */
export async function createSubscription(baseUrl: string, token: string, eventName: string, targetUrl: string): Promise<{ id: string; secret: string } & Record<string, any>> {
  const response = await callApi(baseUrl, 'POST', '/webhooks/subscriptions', { token, body: { event_name: eventName, target_url: targetUrl } });
  if (response.status !== 201) throw new Error(`create subscription failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/**
 * Creates `count` contacts through the API, `concurrency` requests at a time; `baseUrlFor(i)` picks the
 * instance for contact i (to spread creates over several processes). Returns the created contacts' ids, in order.
 */
export async function createContacts(
  baseUrlFor: string | ((index: number) => string),
  token: string,
  count: number,
  { concurrency = 20, prefix = 'contact' }: { concurrency?: number; prefix?: string } = {},
): Promise<string[]> {
  const pick = typeof baseUrlFor === 'string' ? () => baseUrlFor : baseUrlFor;
  const ids: string[] = new Array(count);
  const run = randomBytes(3).toString('hex');
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const response = await callApi(pick(index), 'POST', '/contacts', {
        token,
        body: { first_name: 'Test', last_name: `#${index}`, email: `${prefix}-${run}-${index}@example.com`, company: 'Acme Ltd' },
      });
      if (response.status !== 201) throw new Error(`create contact ${index} failed: ${response.status} ${JSON.stringify(response.body)}`);
      ids[index] = response.body.id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids;
}
