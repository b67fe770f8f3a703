import net from 'node:net';
import pg from 'pg';
import { QueryFailedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { asDatabaseUnavailable, DatabaseUnavailableError, isDatabaseUnavailable } from './database-unavailable.js';

/** The error a real pg client raises for `run` (a connection to nothing, a silent server, …). */
async function errorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('isDatabaseUnavailable', () => {
  it('recognises a refused connection (PostgreSQL down)', async () => {
    const port = await closedPort();
    const error = await errorOf(async () => {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'x' });
      await client.connect();
    });
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('recognises a pool that could not get a connection in time', async () => {
    // A server that accepts and never answers: the pool's connectionTimeoutMillis runs out.
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const pool = new pg.Pool({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, user: 'x', database: 'x', connectionTimeoutMillis: 100 });
    try {
      const error = await errorOf(() => pool.query('SELECT 1'));
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await pool.end().catch(() => undefined);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    ['57P01 admin_shutdown (terminated by a fast shutdown or pg_terminate_backend)', '57P01'],
    ['57P02 crash_shutdown', '57P02'],
    ['57P03 cannot_connect_now (starting up)', '57P03'],
    ['08006 connection_failure', '08006'],
    ['08003 connection_does_not_exist', '08003'],
  ])('recognises %s, also inside a TypeORM QueryFailedError', (_label, code) => {
    const driverError = Object.assign(new Error('terminating connection'), { code });
    expect(isDatabaseUnavailable(driverError)).toBe(true);
    expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], driverError))).toBe(true);
  });

  it('recognises a dropped socket and a transaction whose connection is gone', () => {
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new QueryRunnerProviderAlreadyReleasedError())).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })]))).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '57P01' }) }))).toBe(true);
  });

  it('leaves real bugs and bad queries alone (they stay 500 or their own 4xx)', () => {
    for (const code of ['23505', '42601', '42P01', '22P02', '40001', '57014']) {
      expect(isDatabaseUnavailable(new QueryFailedError('SELECT 1', [], Object.assign(new Error('boom'), { code }))), code).toBe(false);
    }
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('Connection terminated')).toBe(false);
  });

  it('turns an outage into a 503 with Retry-After and the DATABASE_UNAVAILABLE code', () => {
    const exception = asDatabaseUnavailable(new Error('Connection terminated unexpectedly'));
    expect(exception).toBeInstanceOf(DatabaseUnavailableError);
    const error = exception as DatabaseUnavailableError;
    expect([error.status, error.code, error.headers]).toEqual([503, 'DATABASE_UNAVAILABLE', { 'Retry-After': '5' }]);
    const bug = new TypeError('bug');
    expect(asDatabaseUnavailable(bug)).toBe(bug);
  });
});
