import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createApp } from '../../src/app.setup.js';
import { loadConfig, type AppConfig } from '../../src/config/app.config.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean>;
  /** Sent as JSON unless a string (then sent as-is with the given content-type header). */
  body?: unknown;
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  database: TestDatabase;
  /** A direct connection to this file's database, for assertions on what was stored. */
  sql<T extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<T[]>;
  request<T = any>(method: string, url: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/** Starts the real app (real config, real migrations) on a fresh database; requests go through Fastify's inject. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  return startTestAppOn(await createTestDatabase(), env, { dropOnClose: true });
}

/**
 * Starts one more instance of the app on a database another TestApp already uses (tests of several
 * instances in one process); closing it leaves the database to its owner unless `dropOnClose`.
 */
export async function startTestAppOn(database: TestDatabase, env: Record<string, string> = {}, { dropOnClose = false } = {}): Promise<TestApp> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', DATABASE_URL: database.url, ...env });
  const app = await createApp(config, database.url);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  // An idle connection dropped by the server (at teardown) must not surface as an unhandled error.
  pool.on('error', () => undefined);

  return {
    app,
    config,
    database,
    async sql(text, values) {
      return (await pool.query(text, values)).rows;
    },
    async request(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let payload: string | undefined;
      if (options.body !== undefined) {
        if (typeof options.body === 'string') {
          payload = options.body;
        } else {
          payload = JSON.stringify(options.body);
          headers['content-type'] ??= 'application/json';
        }
      }
      const query = options.query ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, String(v)])) : undefined;
      const response = await app.inject({ method: method as 'GET', url, headers, payload, query });
      const text = response.body;
      let body: unknown = text;
      if ((response.headers['content-type'] ?? '').toString().includes('json') && text) body = JSON.parse(text);
      return { status: response.statusCode, body: body as any, headers: response.headers as ApiResponse['headers'] };
    },
    async close() {
      await app.close();
      await pool.end();
      if (dropOnClose) await database.drop();
    },
  };
}

export interface RegisteredAccount {
  token: string;
  userId: string;
  tenantId: string;
  email: string;
  password: string;
}

/** Registers a new tenant and its admin through the API. */
export async function registerAccount(t: TestApp, name = 'acme'): Promise<RegisteredAccount> {
  const email = `${name}-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'correct horse battery staple';
  const response = await t.request('POST', '/api/auth/register', {
    body: { email, password, name: `Admin of ${name}`, tenant_name: name },
  });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { token: response.body.token, userId: response.body.user.id, tenantId: response.body.tenant.id, email, password };
}
