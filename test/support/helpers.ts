import { randomBytes } from 'node:crypto';

/** Small helpers every e2e spec may use; one copy here instead of one per file. */

/** A lower-case, hyphenated UUID, as every id in the API is written. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An ISO 8601 UTC timestamp, with up to microsecond precision (what PostgreSQL's timestamptz holds). */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** An ISO 8601 UTC timestamp exactly as `Date.prototype.toISOString()` writes it (milliseconds, always). */
export const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An email no other test uses, with a readable prefix. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/** A free TCP port on 127.0.0.1 (bound, then released), and whether a PID is alive: the app's own. */
export { freeLoopbackPort as freePort, isAlive } from '../../src/database/embedded-postgres.js';
