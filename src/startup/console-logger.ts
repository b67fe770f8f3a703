import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import type { AppConfig } from '../config/app.config.js';

const NEST_LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  info: ['fatal', 'error', 'warn', 'log'],
  warn: ['fatal', 'error', 'warn'],
  error: ['fatal', 'error'],
  fatal: ['fatal'],
  silent: [],
};

/** Whether both output streams are terminals: only then do log lines carry ANSI colour codes. */
export function outputIsTerminal(streams: { isTTY?: boolean }[] = [process.stdout, process.stderr]): boolean {
  return streams.every((stream) => stream.isTTY === true);
}

/**
 * The logger of the lines written before the app's own (JSON) logger takes over: embedded PostgreSQL start,
 * configuration warnings. Nest colours its console output even into a file or a pipe; this one colours only
 * on a terminal (and never with NO_COLOR set), and follows LOG_LEVEL.
 */
export function startupLogger(logLevel: AppConfig['logLevel'], colors = outputIsTerminal()): ConsoleLogger {
  return new ConsoleLogger({ colors, logLevels: NEST_LEVELS[logLevel] });
}
