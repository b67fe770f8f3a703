import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { migrations } from '../src/database/migrations/index.js';
import { startAppProcess, stopAllAppProcesses } from './support/app-process.js';

/**
 * Two instances (the built app, as child processes) started at the same moment on an EMPTY database: the
 * migrations run under an advisory lock, so one applies them and the other waits, then finds nothing to do.
 * Without the lock, both run the first migration at once and one fails (duplicate key on pg_type) and logs
 * errors before recovering on a retry.
 */
describe('migrations: two instances starting at once on an empty database', () => {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `${inject('testDatabasePrefix')}empty_${randomBytes(4).toString('hex')}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  afterAll(async () => {
    await stopAllAppProcesses();
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('both start without an error, and every migration is applied once', { timeout: 90_000 }, async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();

    const apps = await Promise.all([0, 1].map(() => startAppProcess({ databaseUrl: url.toString(), startTimeoutMs: 60_000 })));
    for (const app of apps) {
      expect(app.output, `instance ${app.pid} logged no error while starting`).not.toMatch(/"level":(50|60)|\bERROR\b|duplicate key/i);
    }

    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM migrations GROUP BY name ORDER BY name');
      expect(rows).toEqual(migrations.map((migration) => ({ name: migration.name, n: 1 })).sort((a, b) => a.name.localeCompare(b.name)));
    } finally {
      await client.end();
    }
    for (const app of apps) expect((await app.stop()).code).toBe(0);
  });
});
