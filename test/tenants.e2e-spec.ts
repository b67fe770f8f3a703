import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InboundApiKeys } from '../src/webhooks/inbound/api-key/inbound-api-keys.js';
import { registerAccount, startTestApp, type ApiResponse, type RegisteredAccount, type TestApp } from './support/test-app.js';
import { ISO_UTC } from './support/helpers.js';

const KEY_RESPONSE_FIELDS = ['api_key', 'created_at', 'prefix', 'previous_key_expires_at', 'tenant_id'];
const TENANT_FIELDS = ['created_at', 'id', 'name', 'updated_at', 'webhook_api_key_created_at', 'webhook_api_key_prefix', 'webhook_api_key_set'];

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function expectError(response: ApiResponse, status: number): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body).toMatchObject({ statusCode: status, error: STATUS_CODES[status], message: expect.any(String) });
  expect(JSON.stringify(response.body)).not.toMatch(/\bat\s+\S+\s+\(|"stack"/);
}

describe('tenants', () => {
  let t: TestApp;
  let keys: InboundApiKeys;
  let acme: RegisteredAccount;
  let globex: RegisteredAccount;

  /** Rotates the caller's inbound key and returns the 200 body. */
  const rotate = async (account: RegisteredAccount, body?: Record<string, unknown>): Promise<Record<string, any>> => {
    const response = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: account.token, body });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as Record<string, any>;
  };

  const verify = (account: RegisteredAccount, key: string): Promise<boolean> => keys.verify(account.tenantId, key);

  beforeAll(async () => {
    t = await startTestApp();
    keys = t.app.get(InboundApiKeys);
    [acme, globex] = await Promise.all([registerAccount(t, 'acme'), registerAccount(t, 'globex')]);
  });

  afterAll(async () => {
    await t.close();
  });

  it('returns the caller\'s tenant, without a webhook key at first', async () => {
    const response = await t.request('GET', '/api/tenants/current', { token: acme.token });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(TENANT_FIELDS);
    expect(response.body).toMatchObject({
      id: acme.tenantId,
      name: 'acme',
      webhook_api_key_set: false,
      webhook_api_key_prefix: null,
      webhook_api_key_created_at: null,
      created_at: expect.stringMatching(ISO_UTC),
    });
  });

  it('answers 401 for the current tenant without a bearer token', async () => {
    expectError(await t.request('GET', '/api/tenants/current'), 401);
  });

  it('generates a jck_ key with 200 and returns it once, with its prefix', async () => {
    const before = Date.now();
    const created = await rotate(globex);
    expect(Object.keys(created).sort()).toEqual(KEY_RESPONSE_FIELDS);
    expect(created.tenant_id).toBe(globex.tenantId);
    expect(created.api_key).toMatch(/^jck_[\w-]{40,}$/);
    expect(created.prefix).toBe(created.api_key.slice(0, 12));
    expect(created.created_at).toMatch(ISO_UTC);
    expect(new Date(created.created_at).getTime()).toBeGreaterThanOrEqual(before - 5_000);
    expect(created.previous_key_expires_at).toBeNull();

    const current = await t.request('GET', '/api/tenants/current', { token: globex.token });
    expect(current.body).toMatchObject({ webhook_api_key_set: true, webhook_api_key_prefix: created.prefix, webhook_api_key_created_at: created.created_at });
    expect(JSON.stringify(current.body)).not.toContain(created.api_key);
  });

  it('accepts an empty body and no body alike', async () => {
    const withoutBody = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: globex.token });
    expect(withoutBody.status, JSON.stringify(withoutBody.body)).toBe(200);
    expect(withoutBody.body.api_key).toMatch(/^jck_/);
  });

  it('stores only a hash of the key', async () => {
    const created = await rotate(acme);
    const [row] = await t.sql('SELECT * FROM tenants WHERE id = $1', [acme.tenantId]);
    expect(JSON.stringify(row)).not.toContain(created.api_key);
    expect(JSON.stringify(row)).not.toContain(created.api_key.slice(4));
    expect(row.webhook_api_key_hash).toBe(sha256Hex(created.api_key));
    expect(row.webhook_api_key_prefix).toBe(created.prefix);
    expect(Object.keys(row)).not.toContain('webhook_api_key');
    expect(Object.keys(row)).not.toContain('api_key');
  });

  it('verifies the current key, and refuses a wrong key and another tenant\'s', async () => {
    const acmeKey = (await rotate(acme)).api_key as string;
    const globexKey = (await rotate(globex)).api_key as string;

    expect(await verify(acme, acmeKey)).toBe(true);
    expect(await verify(globex, globexKey)).toBe(true);
    expect(await verify(acme, `jck_${randomBytes(32).toString('base64url')}`)).toBe(false);
    expect(await verify(acme, '')).toBe(false);
    expect(await verify(acme, acmeKey.slice(0, -1))).toBe(false);
    // A key is bound to its tenant.
    expect(await verify(globex, acmeKey)).toBe(false);
    expect(await verify(acme, globexKey)).toBe(false);
  });

  it('refuses every key for a tenant that has none, or that does not exist', async () => {
    const fresh = await registerAccount(t, 'keyless');
    const otherKey = (await rotate(acme)).api_key as string;
    expect(await verify(fresh, otherKey)).toBe(false);
    expect(await keys.verify(randomUUID(), otherKey)).toBe(false);
  });

  describe('rotation', () => {
    it('invalidates the old key at once with grace_seconds 0', async () => {
      const old = (await rotate(acme)).api_key as string;
      const rotated = await rotate(acme, { grace_seconds: 0 });
      expect(rotated.api_key).not.toBe(old);
      expect(rotated.previous_key_expires_at).toBeNull();
      expect(await verify(acme, old)).toBe(false);
      expect(await verify(acme, rotated.api_key as string)).toBe(true);
    });

    it('invalidates the old key at once by default', async () => {
      const old = (await rotate(acme)).api_key as string;
      await rotate(acme, {});
      expect(await verify(acme, old)).toBe(false);
    });

    it('keeps the old key working during grace_seconds 60', async () => {
      const old = (await rotate(acme)).api_key as string;
      const before = Date.now();
      const rotated = await rotate(acme, { grace_seconds: 60 });

      expect(rotated.previous_key_expires_at).toMatch(ISO_UTC);
      const graceMs = new Date(rotated.previous_key_expires_at as string).getTime() - before;
      expect(graceMs).toBeGreaterThan(55_000);
      expect(graceMs).toBeLessThanOrEqual(65_000);
      expect(await verify(acme, old)).toBe(true);
      expect(await verify(acme, rotated.api_key as string)).toBe(true);
      // The grace covers only its own tenant.
      expect(await verify(globex, old)).toBe(false);
    });

    it('refuses the old key once its grace has expired', async () => {
      const old = (await rotate(acme)).api_key as string;
      const rotated = await rotate(acme, { grace_seconds: 60 });
      expect(await verify(acme, old)).toBe(true);

      await t.sql("UPDATE tenants SET previous_webhook_api_key_expires_at = now() - interval '1 second' WHERE id = $1", [acme.tenantId]);
      // InboundApiKeys caches key hashes for a few seconds (a change made elsewhere, like this UPDATE, is seen
      // once that passes): move the clock on by half a minute, well within the 60 s grace were it not expired.
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() + 30_000);
        expect(await verify(acme, old)).toBe(false);
        expect(await verify(acme, rotated.api_key as string)).toBe(true);
      } finally {
        vi.useRealTimers();
      }
    });

    it('refuses the old key once the grace period has run out on the clock', async () => {
      const old = (await rotate(acme)).api_key as string;
      const rotated = await rotate(acme, { grace_seconds: 60 });
      expect(await verify(acme, old)).toBe(true);
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() + 61_000);
        expect(await verify(acme, old)).toBe(false);
        expect(await verify(acme, rotated.api_key as string)).toBe(true);
      } finally {
        vi.useRealTimers();
      }
    });

    it('keeps only the one previous key through two rotations in a row', async () => {
      const first = (await rotate(acme)).api_key as string;
      const second = (await rotate(acme, { grace_seconds: 60 })).api_key as string;
      const third = (await rotate(acme, { grace_seconds: 60 })).api_key as string;
      expect(await verify(acme, first)).toBe(false);
      expect(await verify(acme, second)).toBe(true);
      expect(await verify(acme, third)).toBe(true);
    });

    it('ends an earlier grace when rotated again with grace_seconds 0', async () => {
      await rotate(acme);
      const second = (await rotate(acme, { grace_seconds: 60 })).api_key as string;
      const third = await rotate(acme, { grace_seconds: 0 });
      expect(third.previous_key_expires_at).toBeNull();
      expect(await verify(acme, second)).toBe(false);
      expect(await verify(acme, third.api_key as string)).toBe(true);
    });

    it('gives no grace on the very first key', async () => {
      const fresh = await registerAccount(t, 'first-key');
      const created = await rotate(fresh, { grace_seconds: 60 });
      expect(created.previous_key_expires_at).toBeNull();
    });

    it.each([
      ['-1', -1],
      ['"x"', 'x'],
      ['1.5', 1.5],
      ['more than a week', 7 * 24 * 3600 + 1],
    ])('answers 400 naming grace_seconds for %s, and keeps the current key', async (_case, value) => {
      const current = (await rotate(acme)).api_key as string;
      const response = await t.request('POST', '/api/tenants/current/webhook-api-key', { token: acme.token, body: { grace_seconds: value } });
      expectError(response, 400);
      expect((response.body.details as Array<{ field: string }>).map((detail) => detail.field)).toContain('grace_seconds');
      expect(await verify(acme, current)).toBe(true);
    });
  });
});
