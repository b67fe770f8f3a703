import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenCache } from '../src/auth/token-cache.js';
import { sleep } from './support/helpers.js';
import { registerAccount, startTestApp, startTestAppOn, type TestApp } from './support/test-app.js';

/**
 * The bearer-token cache with two instances of the app on one database: each keeps the callers of the tokens
 * it resolved, and a revocation on one is refused at once on the other, which had the token cached.
 */

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

describe('bearer-token cache across two instances', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestAppOn(a.database);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const me = (app: TestApp, token: string) => app.request('GET', '/api/auth/me', { token });

  /** Revokes the token by hand (no announcement): an instance that still accepts it answered from its cache. */
  const revokeSilently = (token: string) => a.sql('UPDATE access_tokens SET revoked_at = now() WHERE token_hash = $1', [sha256Hex(token)]);

  /** A fresh session of a new account, used once on each instance so both have it cached. */
  async function cachedOnBoth(): Promise<{ token: string; userId: string }> {
    const account = await registerAccount(a, 'cache');
    const login = await a.request('POST', '/api/auth/login', { body: { email: account.email, password: account.password } });
    const token = login.body.token as string;
    expect((await me(a, token)).status).toBe(200);
    expect((await me(b, token)).status).toBe(200);
    return { token, userId: account.userId };
  }

  it('answers a token it resolved from its cache, without reading it again', async () => {
    const { token } = await cachedOnBoth();
    await revokeSilently(token);
    // A change by hand is not announced: the cache holds until its TTL (60 s), on both instances.
    expect((await me(a, token)).status).toBe(200);
    expect((await me(b, token)).status).toBe(200);
  });

  it('refuses a session on the other instance at once after a logout on one', async () => {
    const { token } = await cachedOnBoth();
    expect((await a.request('POST', '/api/auth/logout', { token })).status).toBe(204);
    expect((await me(b, token)).status).toBe(401);
    expect((await me(a, token)).status).toBe(401);
  });

  it('refuses an API token on the other instance at once after it is deleted on one', async () => {
    const { token: session } = await cachedOnBoth();
    const created = await a.request('POST', '/api/auth/tokens', { token: session, body: { name: 'n8n' } });
    const apiToken = created.body.token as string;
    expect((await me(b, apiToken)).status).toBe(200);
    expect((await me(a, apiToken)).status).toBe(200);

    expect((await b.request('DELETE', `/api/auth/tokens/${created.body.id}`, { token: session })).status).toBe(204);
    expect((await me(a, apiToken)).status).toBe(401);
    expect((await me(b, apiToken)).status).toBe(401);
    expect((await me(a, session)).status).toBe(200);
  });

  it('shows a role change announced in its transaction on every instance at once', async () => {
    const { token, userId } = await cachedOnBoth();
    expect((await me(b, token)).body.role).toBe('admin');
    // What a role change must do (there is no route for one yet): write it through TokenCache.revoke.
    await a.app.get(TokenCache).revoke(a.app.get(DataSource), `user:${userId}`, async (manager) => {
      await manager.query(`UPDATE users SET role = 'member' WHERE id = $1`, [userId]);
      return true;
    });
    // The role is read from the token's lookup (the AuthContext), not from /me's own read of the user.
    const forbidden = await b.request('POST', '/api/users', { token, body: { email: 'x@example.com', name: 'X', password: 'correct horse battery staple' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('FORBIDDEN_ROLE');
    expect((await a.request('POST', '/api/users', { token, body: {} })).status).toBe(403);
  });

  it('refuses a token once it expires, even while it is cached', async () => {
    const account = await registerAccount(a, 'expiry');
    await a.sql("UPDATE access_tokens SET expires_at = now() + interval '2 seconds' WHERE token_hash = $1", [sha256Hex(account.token)]);
    expect((await me(b, account.token)).status).toBe(200);
    await sleep(2100);
    expect((await me(b, account.token)).status).toBe(401);
  });

  it('trusts no cached token while its LISTEN connection is down, and caches again once it is back', async () => {
    const { token } = await cachedOnBoth();
    await a.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'junction-crm-listener'`);
    await sleep(200);
    // A revocation sent now could be missed: a cached answer would be a revoked token accepted.
    await revokeSilently(token);
    expect((await me(b, token)).status).toBe(401);
    expect((await me(a, token)).status).toBe(401);

    // PgListener reconnects after a second; then a token is cached again (a silent revocation goes unseen).
    await sleep(1500);
    const fresh = await cachedOnBoth();
    await revokeSilently(fresh.token);
    expect((await me(b, fresh.token)).status).toBe(200);
  });
});
