// The TypeORM CLI's data source (`npm run migration:generate -- src/database/migrations/Name`).
// Uses DATABASE_URL, or starts the embedded PostgreSQL under DATA_DIR like the app does.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app.config.js';
import { buildDataSourceOptions } from './src/database/data-source.options.js';
import { startEmbeddedPostgres } from './src/database/embedded-postgres.js';

const config = loadConfig();
const database = config.databaseUrl
  ? { url: config.databaseUrl }
  : await startEmbeddedPostgres(config.dataDir, { log: () => undefined, warn: (message) => process.stderr.write(`${message}\n`) });

export default new DataSource(buildDataSourceOptions({ url: database.url, poolSize: 2, migrationsRun: false }));
