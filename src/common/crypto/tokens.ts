import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefixes that tell a leaked credential's kind at a glance (and let secret scanners find them). */
export const TOKEN_PREFIX = {
  session: 'jcs_',
  api: 'jct_',
  webhookApiKey: 'jck_',
} as const;

/** A new random credential: prefix + 32 random bytes in base64url. */
export function generateToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 hex digest; enough for high-entropy random credentials, which cannot be guessed offline. */
export function sha256Hex(value: string): string {
  // The one-shot crypto.hash: a third of createHash's cost, on every authenticated request.
  return hash('sha256', value, 'hex');
}

/** The part of a credential safe to show: its kind prefix and a few characters. */
export function displayPrefix(token: string): string {
  return token.slice(0, 12);
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
