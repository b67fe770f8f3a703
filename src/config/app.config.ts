import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type NodeEnv = 'development' | 'production' | 'test';
export type AppRole = 'all' | 'api' | 'worker';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The whole runtime configuration, parsed and validated once at start. */
export interface AppConfig {
  /** The package version, sent in the webhook User-Agent and shown in the API docs. */
  version: string;
  port: number;
  host: string;
  nodeEnv: NodeEnv;
  /** Unset means: start an embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  dbMigrationsRun: boolean;
  dbPoolSize: number;
  sessionTtlHours: number;
  /** 32 bytes used for AES-256-GCM encryption of secrets at rest. */
  secretsEncryptionKey: Buffer;
  /** True when no key was configured and the development key is in use. */
  secretsEncryptionKeyIsDevelopmentDefault: boolean;
  logLevel: LogLevel;
  appRole: AppRole;
  corsOrigins: string[] | true;
  /** Trust X-Forwarded-* from a reverse proxy (client IPs for the login lockout). */
  trustProxy: boolean;
  bodyLimitBytes: number;
  loginMaxFailures: number;
  loginLockoutSeconds: number;
  webhookRetrySchedule: number[];
  webhookTimeoutMs: number;
  webhookAllowPrivateTargets: boolean;
  webhookPollIntervalMs: number;
  /** Deliveries in flight at once in this process, over all subscriptions. */
  webhookMaxConcurrency: number;
  /** Deliveries in flight at once in this process to one subscription, so a slow endpoint cannot take every slot. */
  webhookMaxConcurrencyPerSubscription: number;
  inboundPollIntervalMs: number;
  inboundMaxBytes: number;
  inboundRateLimit: number;
  inboundRateBurst: number;
  /** Days a finished (succeeded or failed) webhook delivery and its attempts are kept after it finished. */
  deliveryRetentionDays: number;
  /** Days a finished (processed, ignored or failed) inbound event is kept after it finished. */
  inboundRetentionDays: number;
  /** Days a domain event is kept; longer while a delivery of it is still kept. */
  eventRetentionDays: number;
}

/** Thrown when an environment variable has a value the app cannot run with. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expectation: string,
  ) {
    super(`Invalid configuration: ${variable} ${expectation}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const DEFAULT_RETRY_SCHEDULE = '5,30,120,600,1800,3600,10800,21600,43200,86400';
// Fixed so that secrets encrypted in development stay readable across restarts; never valid in production.
const DEVELOPMENT_ENCRYPTION_KEY = Buffer.from('junction-crm-development-key-32b', 'utf8');

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be a whole number between ${min} and ${max}, got "${value}"`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${parsed}`);
  return parsed;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const lowered = value.toLowerCase();
  if (['true', '1', 'yes'].includes(lowered)) return true;
  if (['false', '0', 'no'].includes(lowered)) return false;
  throw new ConfigError(name, `must be true or false, got "${value}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

function databaseUrl(env: Env): string | undefined {
  const value = raw(env, 'DATABASE_URL');
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL such as postgres://user:password@127.0.0.1:5432/junction');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  return value;
}

function encryptionKey(env: Env, nodeEnv: NodeEnv): { key: Buffer; isDefault: boolean } {
  const value = raw(env, 'SECRETS_ENCRYPTION_KEY');
  if (value === undefined) {
    if (nodeEnv === 'production') {
      throw new ConfigError(
        'SECRETS_ENCRYPTION_KEY',
        'is required when NODE_ENV=production: set 32 random bytes as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)',
      );
    }
    return { key: DEVELOPMENT_ENCRYPTION_KEY, isDefault: true };
  }
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) {
    throw new ConfigError('SECRETS_ENCRYPTION_KEY', 'must be 32 bytes written as 64 hex characters or as base64 (e.g. `openssl rand -base64 32`)');
  }
  return { key, isDefault: false };
}

function retrySchedule(env: Env): number[] {
  const value = raw(env, 'WEBHOOK_RETRY_SCHEDULE') ?? DEFAULT_RETRY_SCHEDULE;
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => !/^\d+(\.\d+)?$/.test(part) || Number(part) <= 0)) {
    throw new ConfigError('WEBHOOK_RETRY_SCHEDULE', `must be comma-separated positive numbers of seconds such as "${DEFAULT_RETRY_SCHEDULE}", got "${value}"`);
  }
  return parts.map(Number);
}

function corsOrigins(env: Env, nodeEnv: NodeEnv): string[] | true {
  const value = raw(env, 'CORS_ORIGINS');
  if (value === undefined) return nodeEnv === 'production' ? [] : true;
  if (value === '*') return true;
  const origins = value.split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of origins) {
    try {
      new URL(origin);
    } catch {
      throw new ConfigError('CORS_ORIGINS', `must be "*" or comma-separated origins such as https://app.example.com, got "${origin}"`);
    }
  }
  return origins;
}

/** Reads the version from the project's package.json, wherever this file was compiled to. */
function packageVersion(): string {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'junction-crm' && manifest.version) return manifest.version;
    }
  }
  return '0.0.0';
}

/** Parses and validates the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = oneOf<NodeEnv>(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const { key, isDefault } = encryptionKey(env, nodeEnv);
  return {
    version: packageVersion(),
    port: integer(env, 'PORT', 8001, 0, 65535),
    host: raw(env, 'HOST') ?? '0.0.0.0',
    nodeEnv,
    databaseUrl: databaseUrl(env),
    dataDir: path.resolve(raw(env, 'DATA_DIR') ?? './data'),
    dbMigrationsRun: boolean(env, 'DB_MIGRATIONS_RUN', true),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 20, 1, 200),
    sessionTtlHours: integer(env, 'SESSION_TTL_HOURS', 168, 1, 24 * 365),
    secretsEncryptionKey: key,
    secretsEncryptionKeyIsDevelopmentDefault: isDefault,
    logLevel: oneOf<LogLevel>(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    appRole: oneOf<AppRole>(env, 'APP_ROLE', ['all', 'api', 'worker'], 'all'),
    corsOrigins: corsOrigins(env, nodeEnv),
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 50 * 1024 * 1024),
    loginMaxFailures: integer(env, 'LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginLockoutSeconds: integer(env, 'LOGIN_LOCKOUT_SECONDS', 900, 1, 86400),
    webhookRetrySchedule: retrySchedule(env),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10000, 100, 120000),
    webhookAllowPrivateTargets: boolean(env, 'WEBHOOK_ALLOW_PRIVATE_TARGETS', nodeEnv !== 'production'),
    webhookPollIntervalMs: integer(env, 'WEBHOOK_POLL_INTERVAL_MS', 1000, 50, 3600000),
    webhookMaxConcurrency: integer(env, 'WEBHOOK_MAX_CONCURRENCY', 100, 1, 2000),
    webhookMaxConcurrencyPerSubscription: integer(env, 'WEBHOOK_MAX_CONCURRENCY_PER_SUBSCRIPTION', 10, 1, 1000),
    inboundPollIntervalMs: integer(env, 'INBOUND_POLL_INTERVAL_MS', 2000, 50, 3600000),
    inboundMaxBytes: integer(env, 'INBOUND_MAX_BYTES', 262144, 1024, 50 * 1024 * 1024),
    inboundRateLimit: integer(env, 'INBOUND_RATE_LIMIT', 100, 1, 1000000),
    inboundRateBurst: integer(env, 'INBOUND_RATE_BURST', 200, 1, 1000000),
    // At least a day: Idempotency-Key repeats are recognised for 24 h from the stored event.
    deliveryRetentionDays: integer(env, 'DELIVERY_RETENTION_DAYS', 30, 1, 3650),
    inboundRetentionDays: integer(env, 'INBOUND_RETENTION_DAYS', 30, 1, 3650),
    eventRetentionDays: integer(env, 'EVENT_RETENTION_DAYS', 30, 1, 3650),
  };
}
