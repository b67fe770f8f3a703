import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from './app.config.js';

const PRODUCTION_KEY = 'QmFzZTY0IGVuY29kZWQgMzIgYnl0ZSBrZXkgZm9yIHQ='; // 32 bytes as base64

/** The ConfigError loadConfig throws for `env`, failing the test if it does not throw one. */
function configErrorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  describe('defaults', () => {
    const config = loadConfig({});

    it('listens on port 8001', () => {
      expect(config.port).toBe(8001);
    });

    it('uses an embedded PostgreSQL under ./data when DATABASE_URL is unset', () => {
      expect(config.databaseUrl).toBeUndefined();
      expect(config.dataDir).toBe(path.resolve('./data'));
      expect(config.dbMigrationsRun).toBe(true);
    });

    it('retries webhooks on the documented schedule', () => {
      expect(config.webhookRetrySchedule).toEqual([5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200, 86400]);
    });

    it('runs in development with the documented defaults', () => {
      expect(config).toMatchObject({
        nodeEnv: 'development',
        sessionTtlHours: 168,
        webhookTimeoutMs: 10000,
        webhookPollIntervalMs: 1000,
        inboundPollIntervalMs: 2000,
        inboundMaxBytes: 262144,
        inboundRateLimit: 100,
        inboundRateBurst: 200,
        appRole: 'all',
        logLevel: 'info',
      });
    });

    it('falls back to the development encryption key, and says so', () => {
      expect(config.secretsEncryptionKey).toHaveLength(32);
      expect(config.secretsEncryptionKeyIsDevelopmentDefault).toBe(true);
    });

    it('keeps deliveries, inbound events and domain events for 30 days', () => {
      expect([config.deliveryRetentionDays, config.inboundRetentionDays, config.eventRetentionDays]).toEqual([30, 30, 30]);
    });

    it('treats blank variables as unset', () => {
      expect(loadConfig({ PORT: '  ', DATABASE_URL: '' })).toMatchObject({ port: 8001, databaseUrl: undefined });
    });
  });

  describe('explicit values', () => {
    it('accepts a postgres:// or postgresql:// DATABASE_URL', () => {
      expect(loadConfig({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/junction' }).databaseUrl).toBe('postgres://u:p@127.0.0.1:5432/junction');
      expect(loadConfig({ DATABASE_URL: 'postgresql://127.0.0.1/junction' }).databaseUrl).toBe('postgresql://127.0.0.1/junction');
    });

    it('reads retention periods in days', () => {
      const config = loadConfig({ DELIVERY_RETENTION_DAYS: '7', INBOUND_RETENTION_DAYS: '14', EVENT_RETENTION_DAYS: '90' });
      expect([config.deliveryRetentionDays, config.inboundRetentionDays, config.eventRetentionDays]).toEqual([7, 14, 90]);
    });

    it('reads a custom retry schedule', () => {
      expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '1, 2,3.5' }).webhookRetrySchedule).toEqual([1, 2, 3.5]);
    });

    it('accepts an encryption key as 64 hex characters or as base64 of 32 bytes', () => {
      const hex = 'ab'.repeat(32);
      expect(loadConfig({ SECRETS_ENCRYPTION_KEY: hex }).secretsEncryptionKey).toEqual(Buffer.from(hex, 'hex'));
      const generated = randomBytes(32).toString('base64');
      const config = loadConfig({ SECRETS_ENCRYPTION_KEY: generated });
      expect(config.secretsEncryptionKey).toEqual(Buffer.from(generated, 'base64'));
      expect(config.secretsEncryptionKeyIsDevelopmentDefault).toBe(false);
    });

    it('starts in production when SECRETS_ENCRYPTION_KEY is set', () => {
      const config = loadConfig({ NODE_ENV: 'production', SECRETS_ENCRYPTION_KEY: PRODUCTION_KEY });
      expect(config.nodeEnv).toBe('production');
      expect(config.secretsEncryptionKey).toHaveLength(32);
    });
  });

  describe('WEBHOOK_ALLOW_PRIVATE_TARGETS', () => {
    it('defaults to true in development', () => {
      expect(loadConfig({ NODE_ENV: 'development' }).webhookAllowPrivateTargets).toBe(true);
    });

    it('defaults to false in production', () => {
      expect(loadConfig({ NODE_ENV: 'production', SECRETS_ENCRYPTION_KEY: PRODUCTION_KEY }).webhookAllowPrivateTargets).toBe(false);
    });

    it('can be set explicitly either way', () => {
      expect(loadConfig({ NODE_ENV: 'production', SECRETS_ENCRYPTION_KEY: PRODUCTION_KEY, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).webhookAllowPrivateTargets).toBe(true);
      expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' }).webhookAllowPrivateTargets).toBe(false);
    });
  });

  describe('bad values stop the start with a ConfigError naming the variable', () => {
    it.each([
      ['PORT', { PORT: 'abc' }],
      ['PORT', { PORT: '70000' }],
      ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
      ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
      ['NODE_ENV', { NODE_ENV: 'staging' }],
      ['WEBHOOK_RETRY_SCHEDULE', { WEBHOOK_RETRY_SCHEDULE: '5,x' }],
      ['WEBHOOK_RETRY_SCHEDULE', { WEBHOOK_RETRY_SCHEDULE: '5,0' }],
      ['SECRETS_ENCRYPTION_KEY', { NODE_ENV: 'production' }],
      ['SECRETS_ENCRYPTION_KEY', { SECRETS_ENCRYPTION_KEY: 'dG9vIHNob3J0' }],
      ['SECRETS_ENCRYPTION_KEY', { SECRETS_ENCRYPTION_KEY: 'ab'.repeat(16) }],
      ['WEBHOOK_ALLOW_PRIVATE_TARGETS', { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'maybe' }],
      ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
      ['APP_ROLE', { APP_ROLE: 'scheduler' }],
      ['DELIVERY_RETENTION_DAYS', { DELIVERY_RETENTION_DAYS: '0' }],
      ['INBOUND_RETENTION_DAYS', { INBOUND_RETENTION_DAYS: '30d' }],
      ['EVENT_RETENTION_DAYS', { EVENT_RETENTION_DAYS: '-1' }],
    ])('names %s for %j', (variable, env) => {
      const error = configErrorFor(env);
      expect(error.variable).toBe(variable);
      expect(error.message).toContain(variable);
    });

    it('quotes the bad value so it can be found and fixed', () => {
      expect(configErrorFor({ PORT: 'abc' }).message).toContain('"abc"');
      expect(configErrorFor({ NODE_ENV: 'staging' }).message).toContain('"staging"');
      expect(configErrorFor({ WEBHOOK_RETRY_SCHEDULE: '5,x' }).message).toContain('5,x');
    });

    it('says how to make a key when production has none', () => {
      expect(configErrorFor({ NODE_ENV: 'production' }).message).toMatch(/NODE_ENV=production/);
    });
  });
});
