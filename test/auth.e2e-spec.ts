import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, startTestApp, type TestApp } from './support/test-app.js';

describe('auth', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('registers a tenant with its admin and returns a working session token', async () => {
    const account = await registerAccount(t);
    const me = await t.request('GET', '/api/auth/me', { token: account.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: account.userId, tenant_id: account.tenantId, role: 'admin', tenant: { id: account.tenantId, name: 'acme' } });
  });
});
