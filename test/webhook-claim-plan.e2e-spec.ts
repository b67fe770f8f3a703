import { Logger } from '@nestjs/common';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedicatedPool } from '../src/database/dedicated-pool.js';
import { CLAIM_DUE_SQL, CLAIM_SESSION_SETTINGS, claimOn } from '../src/webhooks/delivery/webhook-delivery.repository.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const TENANT = '00000000-0000-4000-8000-000000000001';
const SUBSCRIPTIONS = Array.from({ length: 10 }, (_, i) => `00000000-0000-4000-8001-${String(i + 1).padStart(12, '0')}`);
const DELIVERED_EVENTS = 5_000;
const BURST_EVENTS = 4_000;
const BURST = BURST_EVENTS * SUBSCRIPTIONS.length;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** Rows a plan read from webhook_deliveries (its heap and its indexes), over every loop of every node. */
function deliveryRowsRead(node: PlanNode): number {
  const own =
    node['Relation Name'] === 'webhook_deliveries' || node['Index Name']?.startsWith('webhook_deliveries')
      ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0)) * node['Actual Loops']
      : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + deliveryRowsRead(child), 0);
}

/** The claim's own connection, as the repository opens it (dedicatedPool with CLAIM_SESSION_SETTINGS). */
function claimPool(url: string): pg.Pool {
  return dedicatedPool({ options: { url } } as unknown as DataSource, { applicationName: 'claim-plan-test', settings: CLAIM_SESSION_SETTINGS, logger: new Logger('claim-plan-test') });
}

/**
 * The plan the claim connection runs the claim with: its generic plan (the session's plan_cache_mode), executed
 * by EXPLAIN ANALYZE in a transaction that is rolled back. `params` are numbers and arrays of UUIDs or numbers.
 */
async function explainClaim(pool: pg.Pool, params: unknown[]): Promise<PlanNode> {
  // EXECUTE takes its arguments as literals (a statement's own parameters do not reach it).
  const literals = params.map((value) => (Array.isArray(value) ? pg.escapeLiteral(`{${value.join(',')}}`) : String(value)));
  const client = await pool.connect();
  try {
    await client.query(`PREPARE explained_claim AS ${CLAIM_DUE_SQL}`);
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE explained_claim(${literals.join(', ')})`);
      return rows[0]['QUERY PLAN'][0].Plan;
    } finally {
      await client.query('ROLLBACK');
      await client.query('DEALLOCATE explained_claim');
    }
  } finally {
    client.release();
  }
}

/** A tenant and its 10 subscriptions, on a session whose foreign-key triggers are off for the bulk inserts (rows consistent by construction). */
async function seedSubscriptions(client: pg.Client, tenantName: string): Promise<void> {
  await client.query(`SET session_replication_role = replica`);
  await client.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [TENANT, tenantName]);
  await client.query(
    `INSERT INTO webhook_subscriptions (id, tenant_id, event_name, target_url, secret_encrypted)
     SELECT id, $1, 'contact.created', 'http://127.0.0.1:9/' || n, 'unused' FROM unnest($2::uuid[]) WITH ORDINALITY AS s(id, n)`,
    [TENANT, SUBSCRIPTIONS],
  );
}

/**
 * The delivery worker's claim on a mature queue: statistics were taken while nothing was pending (every
 * delivery done), then a burst of due deliveries arrives before autovacuum analyzes the table again, and most
 * subscriptions are saturated. The claim must still read about as many rows as its candidates' walk (10 ×
 * its limit, plus the saturated subscriptions' rows it skips), not the whole burst: the planner believes the
 * due index is empty, and a plan that walks all of it for each candidate took 50–56 s at 200,000 due rows.
 * Read, as the repository runs it, on the claim's own connection (its generic plan).
 */
describe('the delivery claim with statistics taken before a burst', () => {
  let database: TestDatabase;
  let client: pg.Client;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await seedSubscriptions(client, 'claim plan');
    await client.query(
      `INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at)
       SELECT gen_random_uuid(), $1, 'contact.created', '{}', now() - interval '1 day' + i * interval '1 ms'
         FROM generate_series(1, $2::int) i`,
      [TENANT, DELIVERED_EVENTS + BURST_EVENTS],
    );
    await client.query(
      `INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name, status, attempts, next_attempt_at, completed_at, created_at)
       SELECT e.tenant_id, s.id, e.id, e.event_name, 'succeeded', 1, e.occurred_at, e.occurred_at, e.occurred_at
         FROM (SELECT * FROM domain_events ORDER BY occurred_at LIMIT $1) e CROSS JOIN webhook_subscriptions s`,
      [DELIVERED_EVENTS],
    );
    await client.query(`ANALYZE webhook_deliveries`);
    // No autoanalyze during the test: the statistics stay those of the queue with nothing pending.
    await client.query(`ALTER TABLE webhook_deliveries SET (autovacuum_enabled = false)`);
    await client.query(
      `INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name, next_attempt_at)
       SELECT e.tenant_id, s.id, e.id, e.event_name, now() - interval '1 hour' + (row_number() OVER (ORDER BY e.occurred_at, s.id)) * interval '1 ms'
         FROM (SELECT * FROM domain_events ORDER BY occurred_at OFFSET $1) e CROSS JOIN webhook_subscriptions s`,
      [DELIVERED_EVENTS],
    );
    pool = claimPool(database.url);
  });

  afterAll(async () => {
    await pool?.end();
    await client?.end();
    await database?.drop();
  });

  /**
   * The claim's parameters (limit 20, a share of 4 per subscription) when 8 of the 10 subscriptions already
   * hold their share in this instance: the 2 free ones have room for 8, fewer than the limit asks, as when a
   * worker's claim of 100 meets a few subscriptions with room.
   */
  const LIMIT = 20;
  const SHARE = 4;
  const claimParams = () => {
    const saturated = SUBSCRIPTIONS.slice(0, 8);
    return [LIMIT, saturated, 45, SHARE, saturated, saturated.map(() => SHARE)];
  };

  it('reads a bounded number of rows, not the burst, and leases only the free subscriptions’ deliveries', async () => {
    // The walk: 10 × LIMIT candidates of the 2 free subscriptions and the saturated ones' rows among them
    // (~1,000), then one lookup per delivery leased.
    expect(deliveryRowsRead(await explainClaim(pool, claimParams()))).toBeLessThan(BURST / 4);

    const claimed = await claimOn(pool, claimParams());
    expect(claimed).toHaveLength(2 * SHARE);
    expect(new Set(claimed.map((row) => row.subscription_id))).toEqual(new Set(SUBSCRIPTIONS.slice(8)));
    expect(claimed.every((row) => row.attempts === 1)).toBe(true);
  });
});

/**
 * A new install's first burst: webhook_deliveries never analyzed, so the planner guesses a few dozen due rows
 * and, walked in full, a bitmap scan of them and a sort look cheaper than the due index read in order. On the
 * claim's own connection (the repository's: dedicatedPool with CLAIM_SESSION_SETTINGS) the claim still reads
 * about its candidates' walk, not the whole burst; a plan that reads and sorts the burst costs each claim in
 * proportion to the backlog. That connection prepares the claim and plans it once, whatever the estimates.
 */
describe('the delivery claim on a table never analyzed', () => {
  const EVENTS = 3_000;
  const DUE = EVENTS * SUBSCRIPTIONS.length;
  let database: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    const setup = new pg.Client({ connectionString: database.url });
    await setup.connect();
    try {
      await setup.query(`ALTER TABLE webhook_deliveries SET (autovacuum_enabled = false)`);
      await seedSubscriptions(setup, 'first burst');
      // As one fan-out writes them: one statement, so every row has the same next_attempt_at (its now()).
      await setup.query(
        `WITH e AS (INSERT INTO domain_events (id, tenant_id, event_name, payload, occurred_at) SELECT gen_random_uuid(), $1, 'contact.created', '{}', now() FROM generate_series(1, $2::int) RETURNING id, tenant_id, event_name)
         INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name)
         SELECT e.tenant_id, s.id, e.id, e.event_name FROM e CROSS JOIN webhook_subscriptions s`,
        [TENANT, EVENTS],
      );
    } finally {
      await setup.end();
    }
    pool = claimPool(database.url);
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('walks the due index in order and stops: it reads about 10 × its limit, not every due row', async () => {
    // The walk: 1,000 candidates, then one lookup and one update per delivery leased (100).
    expect(deliveryRowsRead(await explainClaim(pool, [100, [], 45, 20, [], []]))).toBeLessThan(DUE / 4);
    expect(await claimOn(pool, [100, [], 45, 20, [], []])).toHaveLength(100);
  });

  it('is planned once per connection: every claim runs the generic plan', async () => {
    for (let i = 0; i < 3; i++) expect(await claimOn(pool, [10, [], 45, 20, [], []])).toHaveLength(10);
    const { rows } = await pool.query<{ generic_plans: string; custom_plans: string }>(
      `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`,
      [CLAIM_DUE_SQL],
    );
    expect(rows).toHaveLength(1);
    expect(Number(rows[0].generic_plans)).toBeGreaterThanOrEqual(3);
    expect(Number(rows[0].custom_plans)).toBe(0);
  });
});
