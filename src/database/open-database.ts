import type { AppConfig } from '../config/app.config.js';
import { startEmbeddedPostgres, type EmbeddedLogger, type RunningDatabase } from './embedded-postgres.js';

/** DATABASE_URL when set; otherwise the embedded PostgreSQL under DATA_DIR, started now. */
export async function openDatabase(config: AppConfig, logger: EmbeddedLogger): Promise<RunningDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => undefined };
  return startEmbeddedPostgres(config.dataDir, logger);
}
