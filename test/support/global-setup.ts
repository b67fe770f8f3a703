import { Logger } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { TestProject } from 'vitest/node';
import { buildDataSourceOptions } from '../../src/database/data-source.options.js';
import { startEmbeddedPostgres, type RunningDatabase } from '../../src/database/embedded-postgres.js';
import { runMigrationsExclusively } from '../../src/database/run-migrations.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
    testDatabasePrefix: string;
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Once per run: find a PostgreSQL (DATABASE_URL, else an embedded one in a temp folder), build a template
 * database by running the real migrations, and hand both to the test files, which clone the template.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  Logger.overrideLogger(['error', 'warn']);
  let embedded: RunningDatabase | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'junction-test-'));
    embedded = await startEmbeddedPostgres(dataDir, { log: () => undefined, warn: (message) => console.warn(message) });
    adminUrl = embedded.url;
  }
  const template = `junction_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  const dataSource = new DataSource(buildDataSourceOptions({ url: withDatabase(adminUrl, template), poolSize: 1, migrationsRun: false }));
  await dataSource.initialize();
  await runMigrationsExclusively(dataSource);
  await dataSource.destroy();

  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('testDatabasePrefix', `junction_test_${process.pid}_`);

  return async () => {
    // Drop the clones test files left behind (a crashed file cannot clean up after itself).
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`junction_test_${process.pid}_%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
