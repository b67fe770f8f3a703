import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningDatabase } from '../../../src/database/embedded-postgres.js';
import { callApi, registerTenant, startAppProcess, type Account, type AppProcess } from '../../support/app-process.js';

/**
 * The built CRM (node dist/src/main.js) on a database of its own: a new database on DATABASE_URL's server
 * when it is set (CI's PostgreSQL), else on an embedded PostgreSQL started for the run. Migrations run at start.
 */
export interface Crm {
  app: AppProcess;
  /** http://127.0.0.1:PORT (without /api), as the n8n credential takes it. */
  baseUrl: string;
  /** One SQL statement on the CRM's database (to age a rotated secret, say). */
  query(sql: string, params?: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function startCrm(): Promise<Crm> {
  let embedded: RunningDatabase | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'junction-n8n-db-'));
    embedded = await startEmbeddedPostgres(dataDir, { log: () => undefined, warn: (message) => console.warn(message) });
    adminUrl = embedded.url;
  }
  const database = `junction_n8n_e2e_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();

  const databaseUrl = withDatabase(adminUrl, database);
  const app = await startAppProcess({
    databaseUrl,
    env: { NODE_ENV: 'development', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_POLL_INTERVAL_MS: '200', INBOUND_POLL_INTERVAL_MS: '200' },
    startTimeoutMs: 60_000,
  });
  return {
    app,
    baseUrl: app.url.replace(/\/api$/, ''),
    async query(sql, params = []) {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    async stop() {
      await app.stop();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${database}`);
      await cleanup.end();
      await embedded?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Tenant extends Account {
  /** A long-lived API token (jct_…) for the n8n credential. */
  apiToken: string;
  inboundApiKey: string;
}

/** A new tenant with its admin, an API token and an inbound API key. */
export async function newTenant(crm: Crm, name: string): Promise<Tenant> {
  const account = await registerTenant(crm.app.url, name);
  const token = await callApi(crm.app.url, 'POST', '/auth/tokens', { token: account.token, body: { name: `n8n ${name}` } });
  if (token.status !== 201) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`);
  const key = await callApi(crm.app.url, 'POST', '/tenants/current/webhook-api-key', { token: account.token });
  if (key.status !== 200) throw new Error(`api key: ${key.status} ${JSON.stringify(key.body)}`);
  return { ...account, apiToken: token.body.token, inboundApiKey: key.body.api_key };
}

export async function crmGet<T = any>(crm: Crm, tenant: Tenant, route: string): Promise<{ status: number; body: T }> {
  return callApi<T>(crm.app.url, 'GET', route, { token: tenant.token });
}
