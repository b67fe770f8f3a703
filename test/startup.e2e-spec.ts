import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { registerTenant, runAppToExit, startAppProcess, stopAllAppProcesses } from './support/app-process.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { freePort } from './support/helpers.js';

/**
 * Start-up of the BUILT app as a user meets it: a port already taken, a database that cannot be reached, and
 * what its output looks like in a file or a pipe (the test reads the child's stdout/stderr through pipes).
 */

const ANSI_ESCAPE = /\u001b\[/;
const KEY = randomBytes(32).toString('base64');

/** Holds a TCP port on 127.0.0.1 the way another program would. */
async function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** The request log lines (JSON with a `req`) of an app's output. */
function requestLines(output: string): Array<Record<string, any>> {
  return lines(output)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>)
    .filter((line) => line.req);
}

describe('start-up of the built app', () => {
  let dataDir: string;
  let held: Awaited<ReturnType<typeof holdPort>>;
  let database: TestDatabase;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'junction-startup-'));
    held = await holdPort();
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await stopAllAppProcesses();
    await held?.release();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints one line naming the port and exits 1 before the embedded database is started', async () => {
    const embeddedDir = path.join(dataDir, 'embedded');
    const run = await runAppToExit({ NODE_ENV: 'development', PORT: String(held.port), HOST: '127.0.0.1', DATA_DIR: embeddedDir });

    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(new RegExp(`^PORT ${held.port} is in use; set PORT=`))]);
    expect(run.stdout).toBe('');
    // The embedded PostgreSQL would have initialised a cluster under DATA_DIR/pg.
    expect(existsSync(path.join(embeddedDir, 'pg'))).toBe(false);
  });

  it('exits before migrations run on DATABASE_URL when the port is taken', async () => {
    // An empty database: had the app got as far as migrations, it would now hold the migrations table.
    const adminUrl = inject('adminDatabaseUrl');
    const name = `${inject('testDatabasePrefix')}empty_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const run = await runAppToExit({ NODE_ENV: 'test', PORT: String(held.port), HOST: '127.0.0.1', DATABASE_URL: url.toString(), SECRETS_ENCRYPTION_KEY: KEY });

      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toEqual([`PORT ${held.port} is in use; set PORT=… to a free port (e.g. PORT=${held.port + 1} npm start), or stop the process that holds it`]);
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT count(*)::int AS tables FROM pg_tables WHERE schemaname = 'public'`);
        expect(rows[0].tables).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('prints one line without a stack when the database cannot be reached', async () => {
    const closedPort = await freePort();
    const run = await runAppToExit({
      NODE_ENV: 'test',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      DATABASE_URL: `postgres://postgres:secret-password@127.0.0.1:${closedPort}/junction`,
      SECRETS_ENCRYPTION_KEY: KEY,
    });

    expect(run.code).toBe(1);
    // Nothing else either: not the start-up log Nest buffered, nor its retry messages.
    expect(lines(run.stdout + run.stderr)).toEqual([
      `Cannot reach the PostgreSQL server of DATABASE_URL (127.0.0.1:${closedPort}/junction): ECONNREFUSED. Is it running, and is DATABASE_URL right?`,
    ]);
    expect(run.stderr).not.toContain('secret-password');
  });

  it('writes no ANSI colour codes into a pipe, from its first line to shutdown', async () => {
    // No SECRETS_ENCRYPTION_KEY: the warning about it is written before the JSON logger starts.
    const app = await startAppProcess({ databaseUrl: database.url, env: { LOG_LEVEL: 'info', SECRETS_ENCRYPTION_KEY: undefined } });
    const response = await fetch(`${app.url}/health`);
    expect(response.status).toBe(200);
    const exit = await app.stop();

    expect(exit.code).toBe(0);
    expect(app.output).toContain('SECRETS_ENCRYPTION_KEY is not set');
    expect(app.output).toContain('listening on');
    expect(app.output).not.toMatch(ANSI_ESCAPE);
  });

  it('logs one JSON line per request (id, method, URL, status, duration), never a health probe, a header or a body', async () => {
    const app = await startAppProcess({ databaseUrl: database.url, env: { LOG_LEVEL: 'info' } });
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    expect((await fetch(`${app.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${app.url}/contacts?limit=5`, { headers: { 'x-request-id': 'log-line-1', authorization: 'Bearer jct_not-a-real-token' } })).status).toBe(401);
    const inbound = await fetch(`${app.url}/webhooks/lead.captured`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': randomUUID(), 'x-api-key': 'jck_secret-key-material' },
      body: JSON.stringify({ email: 'body-address@example.com' }),
    });
    expect(inbound.status).toBe(401);
    const account = await registerTenant(app.url, 'logs');
    await app.stop();

    const logged = requestLines(app.output);
    expect(logged.map((line) => line.msg.replace(/ \d+ms$/, ''))).toEqual([
      'GET /api/contacts?limit=5 401',
      'POST /api/webhooks/lead.captured 401',
      'POST /api/auth/register 201',
    ]);
    expect(logged[0]).toMatchObject({ level: 30, req: { id: 'log-line-1', method: 'GET', url: '/api/contacts?limit=5' }, res: { statusCode: 401 } });
    expect(Object.keys(logged[0].req).sort()).toEqual(['id', 'method', 'url']);
    expect(Object.keys(logged[0].res)).toEqual(['statusCode']);
    for (const line of logged) {
      expect(line.responseTime).toEqual(expect.any(Number));
      expect(line.msg).toMatch(new RegExp(` ${line.responseTime}ms$`));
    }
    expect(logged[1].req.id).toMatch(/^[0-9a-f-]{36}$/);
    for (const secret of ['jct_not-a-real-token', 'jck_secret-key-material', 'body-address@example.com', account.email, 'correct horse battery staple']) {
      expect(app.output).not.toContain(secret);
    }
  });

  it('logs a request the client gave up on before it was answered', async () => {
    const app = await startAppProcess({ databaseUrl: database.url, env: { LOG_LEVEL: 'info' } });
    // Headers and half a body, then the connection closes.
    const socket = net.connect(app.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write('POST /api/contacts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: given-up-1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":');
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await app.stop();

    const logged = requestLines(app.output);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 30, req: { id: 'given-up-1', method: 'POST', url: '/api/contacts' }, msg: 'POST /api/contacts aborted by the client' }),
    );
  });

  it('runs with the heap settings and MALLOC_MMAP_THRESHOLD_ when started as plain `node dist/src/main.js`, in the same process', async () => {
    // startAppProcess spawns `node dist/src/main.js` with neither setting: the app takes them itself.
    const app = await startAppProcess({ databaseUrl: database.url });
    const argv = (await readFile(`/proc/${app.pid}/cmdline`, 'utf8')).split('\0');
    expect(argv).toEqual(expect.arrayContaining(['--max-old-space-size=192', '--max-semi-space-size=16']));
    const environ = (await readFile(`/proc/${app.pid}/environ`, 'utf8')).split('\0');
    expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=1048576');
    // The PID that was spawned is the one serving (no supervisor in between): a signal to it shuts the app down.
    expect(await app.stop()).toEqual({ code: 0, signal: null });
  });

  it('keeps a heap cap it was started with', async () => {
    const app = await startAppProcess({ databaseUrl: database.url, env: { NODE_OPTIONS: '--max-old-space-size=300' } });
    const argv = (await readFile(`/proc/${app.pid}/cmdline`, 'utf8')).split('\0');
    expect(argv.some((arg) => arg.startsWith('--max-old-space-size'))).toBe(false);
    expect(argv).toContain('--max-semi-space-size=16');
    const environ = (await readFile(`/proc/${app.pid}/environ`, 'utf8')).split('\0');
    expect(environ).toContain('NODE_OPTIONS=--max-old-space-size=300');
    expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=1048576');
    await app.stop();
  });
});
