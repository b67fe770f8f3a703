import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The real Junction CRM for the piece's tests: the BUILT app of this repository (`node dist/src/main.js`) as a
 * child process on a free loopback port. With DATABASE_URL it gets a fresh database of its own on that server
 * (dropped at the end); without, the app starts its embedded PostgreSQL in a temporary folder. Stopped by PID.
 */

export const PACKAGE_DIR = path.resolve(__dirname, '..', '..', '..');
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '..', '..');
const APP_ENTRY = path.join(REPO_ROOT, 'dist', 'src', 'main.js');

export interface Crm {
  /** Root URL of the CRM (the piece's base_url), e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  stop(): Promise<void>;
  output(): string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The root project's `pg` (the CRM's own dependency), to create and drop the test database. */
function rootPg(): any {
  return createRequire(path.join(REPO_ROOT, 'package.json'))('pg');
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const { Client } = rootPg();
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function startCrm(): Promise<Crm> {
  if (!existsSync(APP_ENTRY)) throw new Error(`${APP_ENTRY} is missing: run npm run build at the repository root first (npm run test:activepieces does).`);
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  Object.assign(env, { NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });

  let cleanup = async (): Promise<void> => undefined;
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    const name = `junction_ap_piece_${process.pid}_${randomBytes(3).toString('hex')}`;
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    cleanup = () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } else {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'junction-ap-piece-'));
    // As root the embedded server runs as the postgres user, who must be able to enter the folder.
    chmodSync(dataDir, 0o755);
    env.DATA_DIR = dataDir;
    cleanup = async () => rmSync(dataDir, { recursive: true, force: true });
  }

  const child: ChildProcess = spawn(process.execPath, [APP_ENTRY], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-32_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => !exited && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 20_000);
      await exit;
      clearTimeout(timer);
    }
    await cleanup();
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) {
      await cleanup();
      throw new Error(`the CRM exited during start-up:\n${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return { baseUrl, stop, output: () => output };
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`the CRM did not answer GET /api/health within 60 s:\n${output}`);
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

/** One call to the CRM's API, outside the piece (to set up and to check what the piece did). */
export async function api<T = any>(crm: Crm, method: string, route: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${crm.baseUrl}/api${route}`, {
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
  sessionToken: string;
  apiToken: string;
  tenantId: string;
  inboundApiKey: string;
}

/** A new tenant with its admin, a long-lived API token (what a user pastes into the piece) and an inbound key. */
export async function newAccount(crm: Crm, name = 'acme'): Promise<Account> {
  const email = `${name}-${randomBytes(4).toString('hex')}@example.com`;
  const registered = await api(crm, 'POST', '/auth/register', { body: { email, password: 'correct horse battery staple', name: `Admin of ${name}`, tenant_name: name } });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  const sessionToken = registered.body.token as string;
  const token = await api(crm, 'POST', '/auth/tokens', { token: sessionToken, body: { name: 'activepieces' } });
  if (token.status !== 201) throw new Error(`create token: ${token.status} ${JSON.stringify(token.body)}`);
  const key = await api(crm, 'POST', '/tenants/current/webhook-api-key', { token: sessionToken });
  if (key.status !== 200 && key.status !== 201) throw new Error(`inbound key: ${key.status} ${JSON.stringify(key.body)}`);
  return { sessionToken, apiToken: token.body.token, tenantId: registered.body.tenant.id, inboundApiKey: key.body.api_key };
}

/** Polls `probe` every 50 ms until it returns a value other than undefined, for at most `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
