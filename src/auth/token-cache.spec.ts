import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthContext } from '../common/auth/auth-context.js';
import type { DataSource } from 'typeorm';
import { PgListener } from '../database/pg-listener.js';
import { TOKEN_REVOKED_CHANNEL, TokenCache } from './token-cache.js';

/**
 * The real PgListener (its barrier and handlers) on a stand-in connection: notifications committed but not yet
 * read arrive ahead of the answer of the next command sent on it, as PostgreSQL sends them.
 */
class FakeListener extends PgListener {
  /** Notifications committed but not yet read from the connection. */
  pending: string[] = [];
  barriers = 0;
  private readonly connection = { query: (text: string) => (text === 'SELECT 1' ? this.answer() : Promise.resolve()) };

  constructor() {
    super({} as DataSource);
    this.connected(true);
  }

  /** Up or down, as a dropped connection leaves it (the listener's own field). */
  connected(up: boolean): void {
    Reflect.set(this, 'client', up ? this.connection : null);
  }

  notify(channel: string): void {
    (Reflect.get(this, 'dispatch') as (channel: string) => void).call(this, channel);
  }

  private async answer(): Promise<void> {
    this.barriers += 1;
    for (const channel of this.pending.splice(0)) this.notify(channel);
  }
}

const ALICE: AuthContext = { userId: 'u1', tenantId: 't1', role: 'admin', tokenId: 'k1', tokenKind: 'session' };

describe('TokenCache', () => {
  let listener: FakeListener;
  let cache: TokenCache;

  beforeEach(async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
    listener = new FakeListener();
    cache = new TokenCache(listener);
    await cache.onModuleInit();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers a kept token until its entry goes stale (60 s)', async () => {
    cache.keep(cache.ticket(), 'h1', ALICE, null);
    expect(await cache.lookup('h1')).toEqual(ALICE);
    vi.setSystemTime(Date.now() + 59_000);
    expect(await cache.lookup('h1')).toEqual(ALICE);
    vi.setSystemTime(Date.now() + 1_000);
    expect(await cache.lookup('h1')).toBeNull();
  });

  it('refuses a kept token once the token itself expires', async () => {
    cache.keep(cache.ticket(), 'h1', ALICE, new Date(Date.now() + 5_000));
    vi.setSystemTime(Date.now() + 4_999);
    expect(await cache.lookup('h1')).toEqual(ALICE);
    vi.setSystemTime(Date.now() + 1);
    expect(await cache.lookup('h1')).toBeNull();
  });

  it('drops every entry when a revocation arrives on its channel', async () => {
    cache.keep(cache.ticket(), 'h1', ALICE, null);
    listener.notify(TOKEN_REVOKED_CHANNEL);
    expect(await cache.lookup('h1')).toBeNull();
  });

  it('handles a revocation committed but not yet read before answering from the cache', async () => {
    cache.keep(cache.ticket(), 'h1', ALICE, null);
    listener.pending.push(TOKEN_REVOKED_CHANNEL);
    expect(await cache.lookup('h1')).toBeNull();
    expect(listener.barriers).toBe(1);
  });

  it('shares one barrier among the lookups that wait together', async () => {
    cache.keep(cache.ticket(), 'h1', ALICE, null);
    const answers = await Promise.all([cache.lookup('h1'), cache.lookup('h1'), cache.lookup('h1'), cache.lookup('h1')]);
    expect(answers).toEqual([ALICE, ALICE, ALICE, ALICE]);
    // The first is sent at once; those that came while it was in flight share the next one.
    expect(listener.barriers).toBe(2);
  });

  it('does not keep a read that began before a revocation and ended after it', async () => {
    const ticket = cache.ticket();
    listener.notify(TOKEN_REVOKED_CHANNEL);
    cache.keep(ticket, 'h1', ALICE, null);
    expect(await cache.lookup('h1')).toBeNull();
    cache.keep(cache.ticket(), 'h1', ALICE, null);
    expect(await cache.lookup('h1')).toEqual(ALICE);
  });

  it('is emptied and bypassed while the LISTEN connection is down, and trusted again once it is back', async () => {
    cache.keep(cache.ticket(), 'h1', ALICE, null);
    listener.connected(false);
    expect(await cache.lookup('h1')).toBeNull();
    cache.keep(cache.ticket(), 'h2', ALICE, null);
    listener.connected(true);
    expect(await cache.lookup('h1')).toBeNull();
    expect(await cache.lookup('h2')).toBeNull();
    cache.keep(cache.ticket(), 'h3', ALICE, null);
    expect(await cache.lookup('h3')).toEqual(ALICE);
  });

  it('is not trusted before it listens', async () => {
    const early = new TokenCache(new FakeListener());
    early.keep(early.ticket(), 'h1', ALICE, null);
    expect(await early.lookup('h1')).toBeNull();
  });

  it('holds at most 10,000 entries, dropping the oldest', async () => {
    for (let index = 0; index <= 10_000; index += 1) cache.keep(cache.ticket(), `h${index}`, ALICE, null);
    expect(await cache.lookup('h0')).toBeNull();
    expect(await cache.lookup('h1')).toEqual(ALICE);
    expect(await cache.lookup('h10000')).toEqual(ALICE);
  });
});
