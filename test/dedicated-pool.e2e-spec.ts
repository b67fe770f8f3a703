import { Logger } from '@nestjs/common';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedicatedPool } from '../src/database/dedicated-pool.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/** A worker's connection of its own (the delivery claims', the outcome writes'): its settings hold from its first statement. */
describe('dedicatedPool', () => {
  let database: TestDatabase;
  const pools: pg.Pool[] = [];
  const open = (settings?: Record<string, string>) => {
    const pool = dedicatedPool({ options: { url: database.url } } as unknown as DataSource, { applicationName: 'dedicated-pool-test', settings, logger: new Logger('dedicated-pool-test') });
    pools.push(pool);
    return pool;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await database?.drop();
  });

  it('sets its settings before the first statement runs, with its application name', async () => {
    const pool = open({ enable_bitmapscan: 'off', plan_cache_mode: 'force_generic_plan' });
    const { rows } = await pool.query<{ bitmap: string; cache: string; name: string }>(
      `SELECT current_setting('enable_bitmapscan') AS bitmap, current_setting('plan_cache_mode') AS cache, current_setting('application_name') AS name`,
    );
    expect(rows[0]).toEqual({ bitmap: 'off', cache: 'force_generic_plan', name: 'dedicated-pool-test' });
  });

  it('fails the statement when a setting is refused, and tries again on the next one', async () => {
    const pool = open({ no_such_setting: 'on' });
    await expect(pool.query('SELECT 1')).rejects.toThrow(/no_such_setting/);
    await expect(pool.query('SELECT 1')).rejects.toThrow(/no_such_setting/);
    expect(pool.totalCount).toBe(0);
  });
});
