import type { AppConfig } from '../config/app.config.js';

type StartupConfig = Pick<AppConfig, 'port' | 'host' | 'databaseUrl'>;

interface ErrorWithCode {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The error's code, looking into an AggregateError (a host name with several addresses fails with one). */
function codeOf(error: unknown): string | undefined {
  const candidate = error as ErrorWithCode | null;
  if (typeof candidate?.code === 'string') return candidate.code;
  if (Array.isArray(candidate?.errors)) return candidate.errors.map(codeOf).find(Boolean);
  return undefined;
}

function messageOf(error: unknown): string {
  const candidate = error as ErrorWithCode | null;
  const message = typeof candidate?.message === 'string' ? candidate.message : '';
  if (message) return message.split('\n')[0]!.trim();
  if (Array.isArray(candidate?.errors) && candidate.errors.length) return messageOf(candidate.errors[0]);
  return codeOf(error) ?? String(error);
}

/** host:port of DATABASE_URL, without its credentials. */
function databaseAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * One line that says why the start failed and what to change, for errors met before the app's logger runs
 * (a taken port, an unreachable database, a failing migration). No stack: LOG_LEVEL=debug prints it.
 */
export function describeStartupError(error: unknown, config: StartupConfig | null): string {
  const code = codeOf(error);
  if (config && code === 'EADDRINUSE') {
    return `PORT ${config.port} is in use; set PORT=… to a free port (e.g. PORT=${config.port === 65535 ? 8002 : config.port + 1} npm start), or stop the process that holds it`;
  }
  if (config && code === 'EACCES') {
    return `PORT ${config.port} needs more privileges than this process has; set PORT=… to a port above 1023`;
  }
  if (config && code === 'EADDRNOTAVAIL') {
    return `HOST ${config.host} is not an address of this machine; set HOST=0.0.0.0 (all addresses) or HOST=127.0.0.1`;
  }
  if (config?.databaseUrl && code && NETWORK_CODES.has(code)) {
    return `Cannot reach the PostgreSQL server of DATABASE_URL (${databaseAddress(config.databaseUrl)}): ${code}. Is it running, and is DATABASE_URL right?`;
  }
  // PostgreSQL's own refusals: 28xxx authentication, 3D000 unknown database.
  if (config?.databaseUrl && code && /^(28...|3D000)$/.test(code)) {
    return `The PostgreSQL server of DATABASE_URL (${databaseAddress(config.databaseUrl)}) refused the connection: ${messageOf(error)}`;
  }
  return `Start-up failed: ${messageOf(error)} (LOG_LEVEL=debug shows the details)`;
}
