import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, startTestApp, type ApiResponse, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { ISO_UTC, uniqueEmail, UUID } from './support/helpers.js';

const USER_FIELDS = ['created_at', 'email', 'id', 'name', 'role', 'tenant_id', 'updated_at'];
const PASSWORD = 'a long enough password';

function expectError(response: ApiResponse, status: number): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body).toMatchObject({ statusCode: status, error: STATUS_CODES[status], message: expect.any(String) });
  expect(JSON.stringify(response.body)).not.toMatch(/\bat\s+\S+\s+\(|"stack"/);
}

function detailFields(response: ApiResponse): string[] {
  return ((response.body.details ?? []) as Array<{ field: string }>).map((detail) => detail.field);
}

/** True when `needle` appears as a value anywhere in `value` (a few levels deep; cycles skipped). */
function containsValue(value: unknown, needle: string, depth = 4, seen = new WeakSet<object>()): boolean {
  if (value === needle) return true;
  if (depth === 0 || value === null || typeof value !== 'object' || seen.has(value)) return false;
  seen.add(value);
  return Object.values(value).some((inner) => containsValue(inner, needle, depth - 1, seen));
}

describe('users', () => {
  let t: TestApp;
  let admin: RegisteredAccount;
  let other: RegisteredAccount;
  let member: { id: string; email: string; token: string };

  const createUser = (token: string, body: Record<string, unknown>): Promise<ApiResponse> => t.request('POST', '/api/users', { token, body });

  const login = async (email: string, password: string): Promise<string> => {
    const response = await t.request('POST', '/api/auth/login', { body: { email, password } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.token as string;
  };

  beforeAll(async () => {
    t = await startTestApp();
    [admin, other] = await Promise.all([registerAccount(t, 'admin-co'), registerAccount(t, 'other-co')]);
    const email = uniqueEmail('member');
    const created = await createUser(admin.token, { email, name: 'Mia Member', password: PASSWORD });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    member = { id: created.body.id as string, email, token: await login(email, PASSWORD) };
  });

  afterAll(async () => {
    await t.close();
  });

  describe('create', () => {
    it('creates a member in the admin\'s tenant with 201 by default', async () => {
      const email = uniqueEmail('grace');
      const response = await createUser(admin.token, { email, name: 'Grace Hopper', password: PASSWORD });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(USER_FIELDS);
      expect(response.body).toMatchObject({ email, name: 'Grace Hopper', role: 'member', tenant_id: admin.tenantId });
      expect(response.body.id).toMatch(UUID);
      expect(response.body.created_at).toMatch(ISO_UTC);
      expect(JSON.stringify(response.body)).not.toContain(PASSWORD);
    });

    it('creates an admin when asked for role admin', async () => {
      const response = await createUser(admin.token, { email: uniqueEmail('second-admin'), name: 'Second Admin', password: PASSWORD, role: 'admin' });
      expect(response.status).toBe(201);
      expect(response.body.role).toBe('admin');
    });

    it('lets the new user log in and see their tenant and role', async () => {
      const email = uniqueEmail('linus');
      const created = await createUser(admin.token, { email, name: 'Linus', password: PASSWORD });
      expect(created.status).toBe(201);

      const token = await login(email, PASSWORD);
      const me = await t.request('GET', '/api/auth/me', { token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: created.body.id, tenant_id: admin.tenantId, role: 'member', tenant: { id: admin.tenantId, name: 'admin-co' } });
    });

    it('answers 409 for an email already used, in any case and any tenant', async () => {
      const sameTenant = await createUser(admin.token, { email: member.email.toUpperCase(), name: 'Copy', password: PASSWORD });
      expectError(sameTenant, 409);
      const otherTenant = await createUser(other.token, { email: member.email, name: 'Copy', password: PASSWORD });
      expectError(otherTenant, 409);
    });

    it.each([
      ['a bad email', { email: 'nope' }, 'email'],
      ['a short password', { password: 'short' }, 'password'],
      ['an unknown role', { role: 'owner' }, 'role'],
      ['a missing name', { name: undefined }, 'name'],
      ['an unknown field', { tenant_id: randomUUID() }, 'tenant_id'],
    ])('answers 400 naming the field for %s', async (_case, override, field) => {
      const response = await createUser(admin.token, { email: uniqueEmail(), name: 'Valid Name', password: PASSWORD, ...override });
      expectError(response, 400);
      expect(detailFields(response)).toContain(field);
    });

    it('answers 403 to a member creating a user', async () => {
      const email = uniqueEmail('by-member');
      const response = await createUser(member.token, { email, name: 'Not Allowed', password: PASSWORD });
      expectError(response, 403);
      expect(await t.sql('SELECT id FROM users WHERE email = $1', [email])).toEqual([]);
    });

    it('answers 403 to a member rotating the webhook API key', async () => {
      const response = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: member.token, body: {} });
      expectError(response, 403);
      const [tenant] = await t.sql('SELECT webhook_api_key_hash FROM tenants WHERE id = $1', [admin.tenantId]);
      expect(tenant.webhook_api_key_hash).toBeNull();
    });

    it('answers 401 without a bearer token', async () => {
      expectError(await t.request('POST', '/api/users', { body: { email: uniqueEmail(), name: 'X', password: PASSWORD } }), 401);
      expectError(await t.request('GET', '/api/users'), 401);
    });

    it('emits user.created with the created user\'s id', async () => {
      const emitter = t.app.get(EventEmitter2);
      const received: unknown[] = [];
      const listener = (event: unknown): void => {
        received.push(event);
      };
      emitter.on('user.created', listener);
      try {
        const response = await createUser(admin.token, { email: uniqueEmail('evented'), name: 'Eve Vented', password: PASSWORD });
        expect(response.status).toBe(201);
        const matching = received.filter((event) => containsValue(event, response.body.id as string));
        expect(matching).toHaveLength(1);
      } finally {
        emitter.off('user.created', listener);
      }
    });

    it('emits no user.created when the creation is refused', async () => {
      const emitter = t.app.get(EventEmitter2);
      let count = 0;
      const listener = (): void => {
        count++;
      };
      emitter.on('user.created', listener);
      try {
        expectError(await createUser(admin.token, { email: member.email, name: 'Dup', password: PASSWORD }), 409);
        expectError(await createUser(member.token, { email: uniqueEmail(), name: 'Forbidden', password: PASSWORD }), 403);
        expect(count).toBe(0);
      } finally {
        emitter.off('user.created', listener);
      }
    });
  });

  describe('list and get', () => {
    it('lists only the users of the caller\'s tenant', async () => {
      const response = await t.request('GET', '/api/users', { token: admin.token, query: { limit: 200 } });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['data', 'next_cursor']);
      const users = response.body.data as Array<{ id: string; tenant_id: string }>;
      const ids = users.map((user) => user.id);
      expect(ids).toContain(admin.userId);
      expect(ids).toContain(member.id);
      expect(ids).not.toContain(other.userId);
      expect(users.every((user) => user.tenant_id === admin.tenantId)).toBe(true);
      expect(Object.keys(users[0]).sort()).toEqual(USER_FIELDS);
    });

    it('lets a member list the users of their tenant', async () => {
      const response = await t.request('GET', '/api/users', { token: member.token });
      expect(response.status).toBe(200);
      expect((response.body.data as Array<{ id: string }>).map((user) => user.id)).toContain(admin.userId);
    });

    it('gets a user of the caller\'s tenant', async () => {
      const response = await t.request('GET', `/api/users/${member.id}`, { token: admin.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: member.id, email: member.email, role: 'member', tenant_id: admin.tenantId });
    });

    it('returns 404 for another tenant\'s user, exactly like a missing one', async () => {
      const foreign = await t.request('GET', `/api/users/${other.userId}`, { token: admin.token });
      expectError(foreign, 404);
      const missingId = randomUUID();
      const missing = await t.request('GET', `/api/users/${missingId}`, { token: admin.token });
      expectError(missing, 404);
      expect(foreign.body.message.replace(other.userId, 'ID')).toBe(missing.body.message.replace(missingId, 'ID'));
    });

    it('returns 400 for a malformed user id', async () => {
      expectError(await t.request('GET', '/api/users/123', { token: admin.token }), 400);
    });
  });

  describe('pagination', () => {
    let pager: RegisteredAccount;
    let allIds: string[];

    beforeAll(async () => {
      pager = await registerAccount(t, 'pager-co');
      const created = await Promise.all(
        [1, 2, 3, 4].map((n) => createUser(pager.token, { email: uniqueEmail(`page-${n}`), name: `Paged ${n}`, password: PASSWORD })),
      );
      allIds = [pager.userId, ...created.map((response) => response.body.id as string)];
      expect(created.every((response) => response.status === 201)).toBe(true);
    });

    it('walks every user with limit=2, newest first, without duplicates, and ends with next_cursor null', async () => {
      const seen: string[] = [];
      const pages: number[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string | number> = { limit: 2 };
        if (cursor) query.cursor = cursor;
        const response = await t.request('GET', '/api/users', { token: pager.token, query });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        const page = response.body.data as Array<{ id: string; created_at: string }>;
        expect(page.length).toBeLessThanOrEqual(2);
        pages.push(page.length);
        seen.push(...page.map((user) => user.id));
        cursor = response.body.next_cursor as string | null;
        expect(pages.length).toBeLessThan(10);
      } while (cursor !== null);

      expect(pages).toEqual([2, 2, 1]);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual([...allIds].sort());
      // The registering admin was created first, so comes last.
      expect(seen.at(-1)).toBe(pager.userId);
    });

    it('returns next_cursor null when everything fits on one page', async () => {
      const response = await t.request('GET', '/api/users', { token: pager.token, query: { limit: 5 } });
      expect(response.body.data).toHaveLength(5);
      expect(response.body.next_cursor).toBeNull();
    });

    it.each(['not-a-cursor', Buffer.from('["yesterday","x"]').toString('base64url'), Buffer.from('{}').toString('base64url')])(
      'returns 400 for a bad cursor (%s)',
      async (cursor) => {
        const response = await t.request('GET', '/api/users', { token: pager.token, query: { cursor } });
        expectError(response, 400);
        expect(response.body.message).toContain('cursor');
      },
    );

    it.each(['0', '500', '-1', 'abc', '1.5'])('returns 400 naming limit for limit=%s', async (limit) => {
      const response = await t.request('GET', '/api/users', { token: pager.token, query: { limit } });
      expectError(response, 400);
      expect(detailFields(response)).toContain('limit');
    });

    it('returns 400 for an unknown query parameter', async () => {
      const response = await t.request('GET', '/api/users', { token: pager.token, query: { sort: 'email' } });
      expectError(response, 400);
      expect(detailFields(response)).toContain('sort');
    });
  });
});
