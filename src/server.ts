/** The server process proper, loaded by main.ts once the process runs with its memory settings. */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.setup.js';
import { ConfigError, loadConfig, type AppConfig } from './config/app.config.js';
import { openDatabase } from './database/open-database.js';
import { startupLogger } from './startup/console-logger.js';
import { probePort } from './startup/port-probe.js';
import { describeStartupError } from './startup/startup-error.js';

const logger = new Logger('Bootstrap');

function readConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function bootstrap(config: AppConfig): Promise<void> {
  // A taken port is found before the (embedded) database starts and migrations and workers run.
  if (config.appRole !== 'worker') await probePort(config.port, config.host);
  if (config.secretsEncryptionKeyIsDevelopmentDefault) {
    logger.warn('SECRETS_ENCRYPTION_KEY is not set: using the development key. Set it before storing real secrets.');
  }
  const database = await openDatabase(config, { log: (message) => logger.log(message), warn: (message) => logger.warn(message) });
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp(config, database.url);
    // A worker instance delivers and processes only; it serves no HTTP.
    if (config.appRole === 'worker') await app.init();
    else await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await database.stop();
    throw error;
  }
  if (config.appRole === 'worker') logger.log(`Junction CRM ${config.version} running as a worker (no HTTP listener)`);
  else logger.log(`Junction CRM ${config.version} listening on http://localhost:${config.port}/api (docs at /api/docs)`);

  // Order matters: stop taking requests and finish in-flight work, close the pool, then stop the embedded server.
  let shuttingDown = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.log(`${signal} received: shutting down`);
    try {
      await app.close();
      await database.stop();
      process.exit(0);
    } catch (error) {
      logger.error(`Shutdown failed: ${String(error)}`);
      process.exit(1);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, (received) => void shutdown(received));
}

const config = readConfig();
// Until the app's JSON logger takes over: plain text, coloured only on a terminal, at LOG_LEVEL.
Logger.overrideLogger(startupLogger(config.logLevel));
bootstrap(config).catch((error: unknown) => {
  // One line that says what to change; the stack (and the start-up log Nest buffered) only when asked for.
  const verbose = config.logLevel === 'debug' || config.logLevel === 'trace';
  if (verbose) Logger.flush();
  process.stderr.write(`${describeStartupError(error, config)}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
