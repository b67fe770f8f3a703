import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, startTestApp, type ApiResponse, type RegisteredAccount, type RequestOptions, type TestApp } from './support/test-app.js';
import { ISO_UTC, sleep, uniqueEmail, UUID } from './support/helpers.js';

const PASSWORD = 'correct horse battery staple';
const USER_FIELDS = ['created_at', 'email', 'id', 'name', 'role', 'tenant_id', 'updated_at'];
const API_TOKEN_FIELDS = ['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'prefix'];
// A V8 stack frame ("    at fn (file.ts:12:34)") or a serialized `stack` property.
const STACK_TRACE = /\bat\s+\S*\s*\(?[^\s()]+:\d+:\d+\)?|"stack"\s*:/;

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Every error answer has the spec's shape, and no answer carries a stack trace. */
function expectWellFormed(response: ApiResponse): void {
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
  expect(text, 'response leaks a stack trace').not.toMatch(STACK_TRACE);
  if (response.status < 400) return;
  expect(response.headers['content-type']).toMatch(/application\/json/);
  expect(response.body).toMatchObject({ statusCode: response.status, error: STATUS_CODES[response.status], code: expect.stringMatching(/^[A-Z][A-Z0-9_]+$/), message: expect.any(String) });
  expect((response.body as { message: string }).message.length).toBeGreaterThan(0);
  for (const key of Object.keys(response.body as object)) expect(['statusCode', 'error', 'code', 'message', 'details', 'existing_id']).toContain(key);
}

/** The fields named in a 400's details. */
function detailFields(response: ApiResponse): string[] {
  expect(Array.isArray(response.body.details), JSON.stringify(response.body)).toBe(true);
  return (response.body.details as Array<{ field: string; message: string }>).map((detail) => {
    expect(detail.message).toEqual(expect.any(String));
    return detail.field;
  });
}

describe('auth', () => {
  let t: TestApp;
  let alice: RegisteredAccount;
  let bob: RegisteredAccount;

  /** A request whose answer is checked for the error contract and for stack traces. */
  const api = async (method: string, url: string, options?: RequestOptions): Promise<ApiResponse> => {
    const response = await t.request(method, url, options);
    expectWellFormed(response);
    return response;
  };

  const login = (email: string, password: string): Promise<ApiResponse> => api('POST', '/api/auth/login', { body: { email, password } });

  const createApiToken = async (account: RegisteredAccount, body: Record<string, unknown>): Promise<Record<string, any>> => {
    const response = await api('POST', '/api/auth/tokens', { token: account.token, body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as Record<string, any>;
  };

  beforeAll(async () => {
    t = await startTestApp();
    [alice, bob] = await Promise.all([registerAccount(t, 'alice-co'), registerAccount(t, 'bob-co')]);
  });

  afterAll(async () => {
    await t.close();
  });

  describe('register', () => {
    it('registers a tenant with its admin and returns a working session token', async () => {
      const account = await registerAccount(t);
      const me = await api('GET', '/api/auth/me', { token: account.token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: account.userId, tenant_id: account.tenantId, role: 'admin', tenant: { id: account.tenantId, name: 'acme' } });
    });

    it('answers 201 with token, expires_at, the admin user and the new tenant', async () => {
      const email = uniqueEmail('ada');
      const before = Date.now();
      const response = await api('POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Ada Lovelace', tenant_name: 'Analytical Engines' } });

      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(['expires_at', 'tenant', 'token', 'user']);
      expect(response.body.token).toMatch(/^jcs_[\w-]{40,}$/);
      expect(response.body.expires_at).toMatch(ISO_UTC);
      // SESSION_TTL_HOURS defaults to 168: a week.
      const ttlMs = new Date(response.body.expires_at).getTime() - before;
      expect(ttlMs).toBeGreaterThan(167 * 3_600_000);
      expect(ttlMs).toBeLessThanOrEqual(168 * 3_600_000 + 60_000);
      expect(Object.keys(response.body.user).sort()).toEqual(USER_FIELDS);
      expect(response.body.user).toMatchObject({ email, name: 'Ada Lovelace', role: 'admin', tenant_id: response.body.tenant.id });
      expect(response.body.user.id).toMatch(UUID);
      expect(response.body.user.created_at).toMatch(ISO_UTC);
      expect(response.body.tenant).toEqual({ id: expect.stringMatching(UUID), name: 'Analytical Engines' });
    });

    it('answers 409 for an email already registered in another case', async () => {
      const response = await api('POST', '/api/auth/register', {
        body: { email: alice.email.toUpperCase(), password: PASSWORD, name: 'Impostor', tenant_name: 'Impostor Ltd' },
      });
      expect(response.status).toBe(409);
      expect(response.body.message).toContain('already exists');
    });

    it('answers one 201 and one 409, never a 5xx, to two simultaneous registrations of one email', async () => {
      const email = uniqueEmail('race');
      const responses = await Promise.all(
        ['Race One', 'Race Two'].map((tenant_name) => api('POST', '/api/auth/register', { body: { email, password: PASSWORD, name: 'Racer', tenant_name } })),
      );
      expect(responses.map((response) => response.status).sort()).toEqual([201, 409]);
      expect(await t.sql('SELECT id FROM users WHERE lower(email) = lower($1)', [email])).toHaveLength(1);
      expect(await t.sql("SELECT id FROM tenants WHERE name IN ('Race One', 'Race Two')")).toHaveLength(1);
    });

    it('creates no tenant when the registration is refused as a duplicate', async () => {
      const tenantName = `orphan-${randomBytes(4).toString('hex')}`;
      const response = await api('POST', '/api/auth/register', { body: { email: alice.email, password: PASSWORD, name: 'Again', tenant_name: tenantName } });
      expect(response.status).toBe(409);
      expect(await t.sql('SELECT id FROM tenants WHERE name = $1', [tenantName])).toEqual([]);
    });

    it.each([
      ['a bad email', { email: 'not-an-email' }, 'email'],
      ['a short password', { password: 'short' }, 'password'],
      ['a missing tenant_name', { tenant_name: undefined }, 'tenant_name'],
      ['an unknown extra field', { is_superuser: true }, 'is_superuser'],
    ])('answers 400 naming the field for %s', async (_case, override, field) => {
      const body = { email: uniqueEmail(), password: PASSWORD, name: 'Someone', tenant_name: 'Some Co', ...override };
      const response = await api('POST', '/api/auth/register', { body });
      expect(response.status).toBe(400);
      expect(detailFields(response)).toContain(field);
      expect(response.body.message).toContain(field);
    });
  });

  describe('login and logout', () => {
    it('answers 200 with token, expires_at and the user for the right password', async () => {
      const response = await login(alice.email, alice.password);
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['expires_at', 'token', 'user']);
      expect(response.body.token).toMatch(/^jcs_/);
      expect(response.body.token).not.toBe(alice.token);
      expect(response.body.expires_at).toMatch(ISO_UTC);
      expect(new Date(response.body.expires_at).getTime()).toBeGreaterThan(Date.now());
      expect(Object.keys(response.body.user).sort()).toEqual(USER_FIELDS);
      expect(response.body.user).toMatchObject({ id: alice.userId, tenant_id: alice.tenantId, email: alice.email, role: 'admin' });

      const me = await api('GET', '/api/auth/me', { token: response.body.token });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(alice.userId);
    });

    it('accepts the email in another case', async () => {
      const response = await login(alice.email.toUpperCase(), alice.password);
      expect(response.status).toBe(200);
      expect(response.body.user.id).toBe(alice.userId);
    });

    it('answers 401 for a wrong password and the same message for an unknown email', async () => {
      const wrongPassword = await login(alice.email, 'not the password');
      const unknownEmail = await login(uniqueEmail('nobody'), alice.password);
      expect(wrongPassword.status).toBe(401);
      expect(unknownEmail.status).toBe(401);
      expect(wrongPassword.body.token).toBeUndefined();
      expect(unknownEmail.body).toEqual(wrongPassword.body);
    });

    it('answers 400 naming password when it is missing', async () => {
      const response = await api('POST', '/api/auth/login', { body: { email: alice.email } });
      expect(response.status).toBe(400);
      expect(detailFields(response)).toContain('password');
    });

    it('revokes the session on logout with 204, after which the token is 401', async () => {
      const session = await login(bob.email, bob.password);
      expect(session.status).toBe(200);
      const token = session.body.token as string;
      expect((await api('GET', '/api/auth/me', { token })).status).toBe(200);

      const logout = await api('POST', '/api/auth/logout', { token });
      expect(logout.status).toBe(204);
      expect(logout.body).toBe('');

      const after = await api('GET', '/api/auth/me', { token });
      expect(after.status).toBe(401);
      expect((await api('POST', '/api/auth/logout', { token })).status).toBe(401);
      // Only that session: the user's other session still works.
      expect((await api('GET', '/api/auth/me', { token: bob.token })).status).toBe(200);
    });
  });

  describe('me and bearer tokens', () => {
    it('returns the user with tenant_id, role and tenant {id, name}', async () => {
      const response = await api('GET', '/api/auth/me', { token: alice.token });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual([...USER_FIELDS, 'tenant'].sort());
      expect(response.body).toEqual({
        id: alice.userId,
        tenant_id: alice.tenantId,
        email: alice.email,
        name: 'Admin of alice-co',
        role: 'admin',
        created_at: expect.stringMatching(ISO_UTC),
        updated_at: expect.stringMatching(ISO_UTC),
        tenant: { id: alice.tenantId, name: 'alice-co' },
      });
    });

    it('answers 401 without a bearer token, with a malformed header and with an unknown token', async () => {
      expect((await api('GET', '/api/auth/me')).status).toBe(401);
      expect((await api('GET', '/api/auth/me', { headers: { authorization: `Basic ${alice.token}` } })).status).toBe(401);
      expect((await api('GET', '/api/auth/me', { token: `jcs_${randomBytes(32).toString('base64url')}` })).status).toBe(401);
    });

    it('answers 401 for an expired session', async () => {
      const session = await login(alice.email, alice.password);
      const token = session.body.token as string;
      // It expires for real, a moment after its first use (which may keep it in the token cache).
      await t.sql("UPDATE access_tokens SET expires_at = now() + interval '2 seconds' WHERE token_hash = $1", [sha256Hex(token)]);
      expect((await api('GET', '/api/auth/me', { token })).status).toBe(200);

      await sleep(2100);
      const response = await api('GET', '/api/auth/me', { token });
      expect(response.status).toBe(401);
      expect(response.body.message).toMatch(/expired/);
    });

    it('answers 401 for a revoked token', async () => {
      const session = await login(alice.email, alice.password);
      const token = session.body.token as string;
      await t.sql('UPDATE access_tokens SET revoked_at = now() WHERE token_hash = $1', [sha256Hex(token)]);
      expect((await api('GET', '/api/auth/me', { token })).status).toBe(401);
    });

    it('stores only a hash of each token, never the token itself', async () => {
      const session = await login(alice.email, alice.password);
      const apiToken = await createApiToken(alice, { name: 'hash check' });
      const tokens = [alice.token, session.body.token as string, apiToken.token as string];

      const rows = await t.sql('SELECT * FROM access_tokens');
      const dump = JSON.stringify(rows);
      for (const token of tokens) {
        expect(dump).not.toContain(token);
        // The random part alone must not be there either.
        expect(dump).not.toContain(token.slice(4));
        const [row] = await t.sql('SELECT prefix FROM access_tokens WHERE token_hash = $1', [sha256Hex(token)]);
        expect(row?.prefix).toBe(token.slice(0, 12));
      }
    });

    it('stores the password only as a scrypt hash', async () => {
      const [row] = await t.sql('SELECT * FROM users WHERE id = $1', [alice.userId]);
      expect(JSON.stringify(row)).not.toContain(alice.password);
      expect(row.password_hash).toMatch(/^scrypt\$/);
    });
  });

  describe('API tokens', () => {
    it('creates a jct_ token with 201 that works as a bearer token, and lists it without the token', async () => {
      const created = await createApiToken(alice, { name: 'n8n production' });
      expect(Object.keys(created).sort()).toEqual([...API_TOKEN_FIELDS, 'token'].sort());
      expect(created).toMatchObject({ id: expect.stringMatching(UUID), name: 'n8n production', expires_at: null, last_used_at: null });
      expect(created.token).toMatch(/^jct_[\w-]{40,}$/);
      expect(created.prefix).toBe(created.token.slice(0, 12));
      expect(created.created_at).toMatch(ISO_UTC);

      const me = await api('GET', '/api/auth/me', { token: created.token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: alice.userId, tenant_id: alice.tenantId, role: 'admin' });

      const list = await api('GET', '/api/auth/tokens', { token: alice.token });
      expect(list.status).toBe(200);
      const listed = (list.body.data as Array<Record<string, unknown>>).find((token) => token.id === created.id);
      expect(listed).toBeDefined();
      expect(Object.keys(listed!).sort()).toEqual(API_TOKEN_FIELDS);
      expect(listed).toMatchObject({ name: 'n8n production', prefix: created.prefix, last_used_at: expect.stringMatching(ISO_UTC) });
      expect(JSON.stringify(list.body)).not.toContain(created.token);
    });

    it('sets expires_at from expires_in_days', async () => {
      const before = Date.now();
      const created = await createApiToken(alice, { name: 'monthly', expires_in_days: 30 });
      const expiresIn = new Date(created.expires_at as string).getTime() - before;
      expect(expiresIn).toBeGreaterThanOrEqual(30 * 86_400_000 - 1000);
      expect(expiresIn).toBeLessThanOrEqual(30 * 86_400_000 + 60_000);
    });

    it('stops accepting an API token once it has expired, and stops listing it', async () => {
      const created = await createApiToken(alice, { name: 'short-lived', expires_in_days: 1 });
      // It expires for real, a moment after its first use (which may keep it in the token cache).
      await t.sql("UPDATE access_tokens SET expires_at = now() + interval '2 seconds' WHERE id = $1", [created.id]);
      expect((await api('GET', '/api/auth/me', { token: created.token })).status).toBe(200);
      await sleep(2100);
      expect((await api('GET', '/api/auth/me', { token: created.token })).status).toBe(401);
      const list = await api('GET', '/api/auth/tokens', { token: alice.token });
      expect((list.body.data as Array<{ id: string }>).map((token) => token.id)).not.toContain(created.id);
    });

    it('returns 404 when asked to revoke a session through the API-token route', async () => {
      const [session] = await t.sql('SELECT id FROM access_tokens WHERE token_hash = $1', [sha256Hex(alice.token)]);
      expect((await api('DELETE', `/api/auth/tokens/${session.id}`, { token: alice.token })).status).toBe(404);
      expect((await api('GET', '/api/auth/me', { token: alice.token })).status).toBe(200);
    });

    it('lists only API tokens: not sessions, nor other users\' tokens', async () => {
      const bobs = await createApiToken(bob, { name: 'bob only' });
      const list = await api('GET', '/api/auth/tokens', { token: alice.token });
      const ids = (list.body.data as Array<{ id: string }>).map((token) => token.id);
      expect(ids).not.toContain(bobs.id);
      const [session] = await t.sql('SELECT id FROM access_tokens WHERE token_hash = $1', [sha256Hex(alice.token)]);
      expect(ids).not.toContain(session.id);
    });

    it('revokes a token with 204 on DELETE, after which it is 401 and no longer listed', async () => {
      const created = await createApiToken(alice, { name: 'to revoke' });
      expect((await api('GET', '/api/auth/me', { token: created.token })).status).toBe(200);

      const revoke = await api('DELETE', `/api/auth/tokens/${created.id}`, { token: alice.token });
      expect(revoke.status).toBe(204);
      expect(revoke.body).toBe('');

      expect((await api('GET', '/api/auth/me', { token: created.token })).status).toBe(401);
      const list = await api('GET', '/api/auth/tokens', { token: alice.token });
      expect((list.body.data as Array<{ id: string }>).map((token) => token.id)).not.toContain(created.id);
      expect((await api('DELETE', `/api/auth/tokens/${created.id}`, { token: alice.token })).status).toBe(404);
    });

    it('returns 404 for another user\'s token id and leaves that token working', async () => {
      const bobs = await createApiToken(bob, { name: 'bob keeps this' });
      const response = await api('DELETE', `/api/auth/tokens/${bobs.id}`, { token: alice.token });
      expect(response.status).toBe(404);
      expect((await api('GET', '/api/auth/me', { token: bobs.token })).status).toBe(200);
    });

    it('returns 404 for a token id that does not exist, like a foreign one', async () => {
      const response = await api('DELETE', `/api/auth/tokens/${randomUUID()}`, { token: alice.token });
      expect(response.status).toBe(404);
    });

    it('returns 400 for a malformed token id', async () => {
      const response = await api('DELETE', '/api/auth/tokens/not-a-uuid', { token: alice.token });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('id');
    });

    it.each([
      ['0', 0],
      ['"abc"', 'abc'],
    ])('answers 400 naming expires_in_days for %s', async (_case, value) => {
      const response = await api('POST', '/api/auth/tokens', { token: alice.token, body: { name: 'bad expiry', expires_in_days: value } });
      expect(response.status).toBe(400);
      expect(detailFields(response)).toContain('expires_in_days');
    });

    it('answers 400 naming name when it is missing', async () => {
      const response = await api('POST', '/api/auth/tokens', { token: alice.token, body: {} });
      expect(response.status).toBe(400);
      expect(detailFields(response)).toContain('name');
    });

    it('needs a bearer token to create one', async () => {
      expect((await api('POST', '/api/auth/tokens', { body: { name: 'anonymous' } })).status).toBe(401);
    });
  });

  describe('request bodies', () => {
    it('answers 415 for a text/plain body', async () => {
      const response = await api('POST', '/api/auth/login', {
        body: `email=${alice.email}&password=${alice.password}`,
        headers: { 'content-type': 'text/plain' },
      });
      expect(response.status).toBe(415);
    });

    it('tells the caller to send JSON in the 415 message', async () => {
      const response = await api('POST', '/api/auth/login', { body: 'hello', headers: { 'content-type': 'text/plain' } });
      expect(response.status).toBe(415);
      expect(response.body.message).toMatch(/application\/json/);
    });

    it('answers 400 for invalid JSON', async () => {
      const response = await api('POST', '/api/auth/login', { body: '{"email": "a@example.com", ', headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(400);
    });

    it('answers 404 in the error shape for an unknown route', async () => {
      const response = await api('GET', '/api/auth/nope', { token: alice.token });
      expect(response.status).toBe(404);
    });
  });
});

describe('login lockout', () => {
  let t: TestApp;
  let carol: RegisteredAccount;
  let dave: RegisteredAccount;

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES: '3' });
    [carol, dave] = await Promise.all([registerAccount(t, 'carol-co'), registerAccount(t, 'dave-co')]);
  });

  afterAll(async () => {
    await t.close();
  });

  const login = async (email: string, password: string): Promise<ApiResponse> => {
    const response = await t.request('POST', '/api/auth/login', { body: { email, password } });
    expectWellFormed(response);
    return response;
  };

  it('answers 429 with retry-after after 3 wrong passwords, even for the right one, and leaves other emails alone', async () => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const failed = await login(carol.email, 'wrong password');
      expect(failed.status, `attempt ${attempt}`).toBe(401);
    }
    const locked = await login(carol.email, carol.password);
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(t.config.loginLockoutSeconds);
    expect(locked.body.message).toMatch(/try again/);
    expect(locked.body.token).toBeUndefined();

    // The lockout is per email, whatever its case.
    expect((await login(carol.email.toUpperCase(), carol.password)).status).toBe(429);

    const other = await login(dave.email, dave.password);
    expect(other.status).toBe(200);
    expect((await login(dave.email, 'wrong password')).status).toBe(401);
  });

  it('lets the email log in again once the lockout has passed', async () => {
    await t.sql("UPDATE login_attempts SET locked_until = now() - interval '1 second', window_started_at = now() - interval '1 day'");
    const response = await login(carol.email, carol.password);
    expect(response.status).toBe(200);
  });
});
