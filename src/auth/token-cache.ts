import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuthContext } from '../common/auth/auth-context.js';
import { PgListener } from '../database/pg-listener.js';

/** The NOTIFY channel of revocations; the payload names what was revoked (`token:<id>`, `user:<id>`). */
export const TOKEN_REVOKED_CHANNEL = 'junction_token_revoked';

/** A safety net for a change no revocation announced (an operator's UPDATE by hand): seen within this long. */
const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  auth: AuthContext;
  /** When the token itself expires (ms), or null for never. */
  expiresAt: number | null;
  /** When the entry must be read from the database again (ms). */
  staleAt: number;
}

/** A fill's ticket: the cache's generation when its database read began. */
export type FillTicket = number;

/**
 * The callers of the bearer tokens this instance resolved lately, keyed by the token's SHA-256, so that hot
 * routes skip the token lookup. A revocation commits a NOTIFY with its change (`revoke`); every instance
 * LISTENs (PgListener) and drops its entries when it arrives. No instance accepts a token after the revoking
 * response: a cached answer is given only after a barrier on the LISTEN connection (PgListener.sync),
 * by which every revocation committed before the request has been handled. A read that began before a
 * revocation and ends after it is answered but not kept (the generation, as TenantsService.keysOf does with
 * its counter). While the LISTEN connection is down, notices can be missed: the cache is emptied and bypassed
 * until it is back (PgListener then calls the handler once more, for what it missed).
 */
@Injectable()
export class TokenCache implements OnModuleInit {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every clear: a fill whose ticket is older is not kept. */
  private generation = 0;
  private subscribed = false;
  constructor(private readonly listener: PgListener) {}

  async onModuleInit(): Promise<void> {
    await this.listener.listen(TOKEN_REVOKED_CHANNEL, () => this.clear());
    this.subscribed = true;
  }

  /** The cached caller of this token, if the entry is neither stale nor expired and no revocation has come since. */
  async lookup(tokenHash: string): Promise<AuthContext | null> {
    if (!this.fresh(tokenHash)) return null;
    if (!this.subscribed || !(await this.listener.sync())) {
      this.clear();
      return null;
    }
    return this.fresh(tokenHash);
  }

  /** Taken before the database read whose result `keep` may store. */
  ticket(): FillTicket {
    return this.generation;
  }

  /** Stores a token's caller, unless a revocation came (or the LISTEN connection was lost) since `ticket` was taken. */
  keep(ticket: FillTicket, tokenHash: string, auth: AuthContext, expiresAt: Date | null): void {
    if (ticket !== this.generation || !this.subscribed || !this.listener.listening) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(tokenHash, { auth, expiresAt: expiresAt ? expiresAt.getTime() : null, staleAt: Date.now() + TTL_MS });
  }

  /** Drops every entry of this instance, and any fill under way. */
  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /**
   * Runs a write that revokes tokens or changes what their AuthContext holds (a user's role) in a transaction
   * that also announces it to every instance (NOTIFY, named by `subject`); `write` says whether it changed
   * anything (nothing changed: nothing announced). This instance's entries are dropped once it commits.
   */
  async revoke(dataSource: DataSource, subject: string, write: (manager: EntityManager) => Promise<boolean>): Promise<boolean> {
    const revoked = await dataSource.transaction(async (manager) => {
      if (!(await write(manager))) return false;
      await manager.query('SELECT pg_notify($1, $2)', [TOKEN_REVOKED_CHANNEL, subject]);
      return true;
    });
    if (revoked) this.clear();
    return revoked;
  }

  private fresh(tokenHash: string): AuthContext | null {
    const entry = this.entries.get(tokenHash);
    if (!entry) return null;
    const now = Date.now();
    if (entry.staleAt > now && (entry.expiresAt === null || entry.expiresAt > now)) return entry.auth;
    this.entries.delete(tokenHash);
    return null;
  }
}
