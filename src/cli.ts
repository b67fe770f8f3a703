import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { AppError } from './common/errors/app-error.js';
import { ConfigError, loadConfig } from './config/app.config.js';
import { buildDataSourceOptions } from './database/data-source.options.js';
import { openDatabase } from './database/open-database.js';
import { runMigrationsExclusively } from './database/run-migrations.js';
import { InboundApiKeys } from './webhooks/inbound/api-key/inbound-api-keys.js';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  tenant:api-key <tenant-id> [--grace-seconds N]   generate (or rotate) a tenant's inbound webhook API key and print it
  migration:run                                   apply pending database migrations
`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  Logger.overrideLogger(['log', 'error', 'warn']);
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command !== 'tenant:api-key' && command !== 'migration:run') fail(`Unknown command "${command}".\n\n${USAGE}`);

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  // A key for a tenant needs the database that holds it: an empty DATA_DIR is a wrong folder, not a new database.
  if (command === 'tenant:api-key' && !config.databaseUrl && !existsSync(path.join(config.dataDir, 'pg', 'PG_VERSION'))) {
    fail(`DATA_DIR ${config.dataDir} holds no database: run this from the folder the app runs in, set DATA_DIR to the app's, or set DATABASE_URL`);
  }
  const quiet = { log: () => undefined, warn: (message: string) => process.stderr.write(`${message}\n`) };
  const database = await openDatabase(config, quiet);
  const dataSource = new DataSource(buildDataSourceOptions({ url: database.url, poolSize: 2, migrationsRun: false }));
  try {
    await dataSource.initialize();
    const applied = await runMigrationsExclusively(dataSource);
    if (command === 'migration:run') {
      process.stdout.write(applied.length ? `Applied ${applied.map((m) => m.name).join(', ')}\n` : 'No pending migrations\n');
      return;
    }
    const [tenantId] = args;
    if (!tenantId || !UUID.test(tenantId)) fail(`tenant:api-key needs a tenant id (a UUID), got "${tenantId ?? ''}".\n\n${USAGE}`);
    const graceIndex = args.indexOf('--grace-seconds');
    const grace = graceIndex >= 0 ? Number(args[graceIndex + 1]) : 0;
    if (!Number.isInteger(grace) || grace < 0) fail('--grace-seconds must be a whole number of seconds');
    const key = await new InboundApiKeys(dataSource).rotate(tenantId, grace);
    process.stdout.write(
      `Tenant:  ${key.tenant_id}\nAPI key: ${key.api_key}\n` +
        (key.previous_key_expires_at ? `The previous key works until ${key.previous_key_expires_at}.\n` : '') +
        'Store it now: only its hash is kept. Send it as X-API-Key with X-Tenant-ID.\n',
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.stop();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  fail(error instanceof AppError && error.code === 'TENANT_NOT_FOUND' ? 'No tenant with that id' : `Failed: ${error instanceof Error ? error.message : String(error)}`);
});
