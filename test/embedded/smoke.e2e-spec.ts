import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive, sleep } from '../support/helpers.js';

/**
 * The built app as a user runs it after a fresh clone: `node dist/src/main.js`, no DATABASE_URL, so it
 * starts (and must stop, and recover after a crash) its own embedded PostgreSQL under DATA_DIR.
 * `npm run test:embedded` builds first.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const PASSWORD = 'correct horse battery staple';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface RunningApp {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
  exited: Promise<Exit>;
  output: () => string;
}


async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(100);
  }
  return condition();
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('the built app on its embedded PostgreSQL', () => {
  let dataDir: string;
  const started: RunningApp[] = [];
  /** Postmaster PIDs seen while the app ran: the embedded server is a child we started, indirectly. */
  const postmasters = new Set<number>();
  const account = { email: `smoke-${randomBytes(4).toString('hex')}@example.com`, password: PASSWORD };

  const pidFile = (): string => path.join(dataDir, 'pg', 'postmaster.pid');

  const postmasterPid = (): number | null => {
    if (!existsSync(pidFile())) return null;
    const pid = Number(readFileSync(pidFile(), 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    postmasters.add(pid);
    return pid;
  };

  /** Starts `node dist/src/main.js` on a free port and waits until GET /api/health answers 200. */
  async function startApp(): Promise<RunningApp> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const record = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-32_000);
    };
    child.stdout.on('data', record);
    child.stderr.on('data', record);
    const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    if (child.pid === undefined) throw new Error('node did not start');
    const app: RunningApp = { child, pid: child.pid, baseUrl: `http://127.0.0.1:${port}`, exited, output: () => output };
    started.push(app);

    let exitedEarly: Exit | null = null;
    void exited.then((exit) => {
      exitedEarly = exit;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitedEarly) throw new Error(`the app exited during start (${JSON.stringify(exitedEarly)}):\n${output}`);
      try {
        const response = await fetch(`${app.baseUrl}/api/health`, { signal: AbortSignal.timeout(2_000) });
        if (response.status === 200) {
          postmasterPid();
          return app;
        }
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`GET /api/health did not answer 200 within ${START_TIMEOUT_MS} ms:\n${output}`);
  }

  /** SIGTERM, then the exit within STOP_TIMEOUT_MS. */
  async function stopApp(app: RunningApp): Promise<Exit> {
    app.child.kill('SIGTERM');
    return withTimeout(app.exited, STOP_TIMEOUT_MS, `exit after SIGTERM\n${app.output()}`);
  }

  const api = async (app: RunningApp, method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${app.baseUrl}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: (response.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text };
  };

  beforeAll(async () => {
    expect(existsSync(MAIN), `${MAIN} is missing: run npm run build (npm run test:embedded does)`).toBe(true);
    dataDir = await mkdtemp(path.join(tmpdir(), 'junction-smoke-'));
    // When the tests run as root, the embedded server runs as the postgres user, who must reach the folder.
    await chmod(dataDir, 0o755);
  });

  afterAll(async () => {
    for (const app of started) {
      if (app.child.exitCode === null && app.child.signalCode === null) {
        app.child.kill('SIGKILL');
        await withTimeout(app.exited, 5_000, `exit of node ${app.pid} after SIGKILL`).catch(() => undefined);
      }
    }
    for (const pid of postmasters) {
      if (!isAlive(pid)) continue;
      process.kill(pid, 'SIGINT');
      if (!(await waitUntil(() => !isAlive(pid), 10_000))) process.kill(pid, 'SIGKILL');
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts with no DATABASE_URL, serves the API, its docs and the console, and stops cleanly on SIGTERM', async () => {
    const app = await startApp();
    const postmaster = postmasterPid();
    expect(postmaster, 'the embedded server writes pg/postmaster.pid').not.toBeNull();
    expect(isAlive(postmaster!)).toBe(true);

    const docsJson = await api(app, 'GET', '/api/docs-json');
    expect(docsJson.status).toBe(200);
    expect(docsJson.body.paths).toHaveProperty('/api/auth/register');
    expect(docsJson.body.paths).toHaveProperty('/api/auth/me');

    const docs = await fetch(`${app.baseUrl}/api/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    expect(await docs.text()).toMatch(/swagger/i);

    // The web console is served by the same process (npm run build builds it).
    const consolePage = await fetch(`${app.baseUrl}/console/`);
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toContain('<title>Junction CRM console</title>');

    const register = await api(app, 'POST', '/api/auth/register', { ...account, name: 'Smoke Tester', tenant_name: 'Smoke Co' });
    expect(register.status, JSON.stringify(register.body)).toBe(201);
    const me = await api(app, 'GET', '/api/auth/me', undefined, register.body.token as string);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: account.email, role: 'admin', tenant: { name: 'Smoke Co' } });

    // Issue 15 on the embedded server: a filtered subscription (the fan-out's jsonb @>), a batch, the feed.
    const token = register.body.token as string;
    const subscription = await api(app, 'POST', '/api/webhooks/subscriptions', { event_name: 'contact.created', target_url: 'http://127.0.0.1:9/hook', filter: { source: 'smoke' } }, token);
    expect(subscription.status, JSON.stringify(subscription.body)).toBe(201);
    expect(subscription.body.filter).toEqual({ source: 'smoke' });
    const batch = await api(app, 'POST', '/api/contacts/batch', { contacts: [{ email: 'smoke-batch@example.com' }, { email: 'not-an-email' }] }, token);
    expect(batch.status, JSON.stringify(batch.body)).toBe(200);
    expect(batch.body.summary).toEqual({ created: 1, updated: 0, unchanged: 0, error: 1 });
    let feed: string[] = [];
    for (let i = 0; i < 50 && feed.length < 2; i++) {
      const page = await api(app, 'GET', '/api/events', undefined, token);
      expect(page.status).toBe(200);
      feed = page.body.data.map((event: { event_name: string }) => event.event_name);
      if (feed.length < 2) await sleep(100);
    }
    expect(feed).toEqual(['user.created', 'contact.created']);

    const exit = await stopApp(app);
    expect(exit, app.output()).toEqual({ code: 0, signal: null });
    expect(existsSync(pidFile()), 'pg/postmaster.pid is left behind').toBe(false);
    expect(await waitUntil(() => !isAlive(postmaster!), 5_000), `postgres ${postmaster} still runs`).toBe(true);
  });

  it('recovers the PostgreSQL a SIGKILLed app left running, keeping its data', async () => {
    const crashed = await startApp();
    const orphan = postmasterPid();
    expect(orphan).not.toBeNull();

    crashed.child.kill('SIGKILL');
    expect(await withTimeout(crashed.exited, 5_000, 'exit after SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    // SIGKILL does not reach the embedded server: it survives its parent.
    expect(isAlive(orphan!)).toBe(true);

    const restarted = await startApp();
    expect(await waitUntil(() => !isAlive(orphan!), 5_000), `the stale postgres ${orphan} was not stopped`).toBe(true);
    const health = await api(restarted, 'GET', '/api/health');
    expect(health.status).toBe(200);
    const ready = await api(restarted, 'GET', '/api/health/ready');
    expect(ready.status).toBe(200);

    const login = await api(restarted, 'POST', '/api/auth/login', account);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.user.email).toBe(account.email);

    const exit = await stopApp(restarted);
    expect(exit, restarted.output()).toEqual({ code: 0, signal: null });
    expect(existsSync(pidFile())).toBe(false);
  });
});
