import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a delivery's `webhook-timestamp` may be from now, either way (Standard Webhooks' 5 minutes). */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

const SECRET_PREFIX = 'whsec_';

/** The exact bytes that arrived: a string, a Buffer, a Uint8Array or a Buffer that went through JSON. */
export function rawBodyBytes(rawBody: unknown): Buffer | null {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  if (Buffer.isBuffer(rawBody)) return rawBody;
  if (rawBody instanceof Uint8Array) return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const serialised = rawBody as { type?: unknown; data?: unknown } | null;
  if (serialised && typeof serialised === 'object' && serialised.type === 'Buffer' && Array.isArray(serialised.data)) return Buffer.from(serialised.data as number[]);
  return null;
}

/** A header's value whatever the case of its name (an array keeps its first value). */
export function headerValue(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

export interface VerifyInput {
  /** The subscription's secret, `whsec_<base64>`. */
  secret: string;
  headers: Record<string, unknown> | undefined;
  body: Buffer;
  /** Unix seconds; defaults to now. */
  now?: number;
}

/**
 * Checks the Standard Webhooks signature exactly as the CRM signs it: `webhook-signature` holds one or more
 * space-separated `v1,<base64 HMAC-SHA256>` (two during a secret rotation) over `${webhook-id}.${webhook-timestamp}.${body}`,
 * keyed with the base64-decoded part of the secret after `whsec_`. The timestamp is inside the signed
 * content, so the tolerance is what stops a recorded delivery from being replayed later. Constant-time.
 */
export function verifyStandardWebhook({ secret, headers, body, now = Math.floor(Date.now() / 1000) }: VerifyInput): boolean {
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(now - Number(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS) return false;

  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  if (key.length === 0) return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();

  let valid = false;
  for (const candidate of signatures.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
    const presented = Buffer.from(candidate.slice(comma + 1), 'base64');
    // Every candidate is compared (no early exit), each in constant time.
    if (presented.length === expected.length && timingSafeEqual(presented, expected)) valid = true;
  }
  return valid;
}
