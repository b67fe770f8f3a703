import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Verification of Junction CRM deliveries by their Standard Webhooks headers, exactly as the CRM signs them
 * (src/webhooks/delivery/signer.ts):
 *
 *   webhook-signature = "v1," + base64(HMAC-SHA256(key, `${webhook-id}.${webhook-timestamp}.${raw body}`))
 *   key               = base64-decoded part of the subscription secret after "whsec_"
 *
 * During a secret rotation the header lists two signatures separated by a space (new first); one match is
 * enough. Only this signature covers the timestamp, so only it lets the tolerance stop a replayed request
 * (the hex X-Webhook-Signature covers the body alone).
 */

export const SECRET_PREFIX = 'whsec_';
/** How far the delivery's timestamp may be from this server's clock, either way (Standard Webhooks' default). */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface VerifyInput {
  /** The subscription's secrets (whsec_…); any one of them may have signed. */
  secrets: Array<string | null | undefined>;
  /** The request headers (Node lower-cases their names). */
  headers: HeaderBag;
  /** The exact bytes received. */
  rawBody: Buffer | string;
  /** Unix seconds; defaults to now. */
  nowSeconds?: number;
  toleranceSeconds?: number;
}

export type VerifyFailure = 'missing-headers' | 'bad-timestamp' | 'stale-timestamp' | 'no-secret' | 'bad-signature';

export type VerifyResult = { valid: true; id: string; timestamp: number } | { valid: false; reason: VerifyFailure; message: string };

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  if (Array.isArray(value)) return value[0];
  return value;
}

/** The HMAC key of a secret: the base64 part after whsec_ (a secret without the prefix is taken as base64 too). */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** `v1,<base64>` for one secret, as the CRM computes it. */
export function sign(secret: string, id: string, timestamp: number | string, rawBody: Buffer | string): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
  return `v1,${mac}`;
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time independent of where they differ.
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

export function verifyDelivery(input: VerifyInput): VerifyResult {
  const id = header(input.headers, 'webhook-id');
  const timestampText = header(input.headers, 'webhook-timestamp');
  const signatureHeader = header(input.headers, 'webhook-signature');
  if (!id || !timestampText || !signatureHeader) {
    return { valid: false, reason: 'missing-headers', message: 'Missing webhook-id, webhook-timestamp or webhook-signature header' };
  }
  if (!/^\d{1,12}$/.test(timestampText)) {
    return { valid: false, reason: 'bad-timestamp', message: 'webhook-timestamp is not a Unix time in seconds' };
  }
  const timestamp = Number(timestampText);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) {
    return { valid: false, reason: 'stale-timestamp', message: `webhook-timestamp is more than ${tolerance} s away from this server's clock` };
  }
  const secrets = input.secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
  if (secrets.length === 0) {
    return { valid: false, reason: 'no-secret', message: 'This trigger holds no signing secret; deactivate and activate the workflow again' };
  }
  const presented = signatureHeader
    .split(' ')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1,'));
  let matched = false;
  for (const secret of secrets) {
    const expected = sign(secret, id, timestampText, input.rawBody);
    // Every pair is compared, so the time taken does not tell which one matched.
    for (const signature of presented) if (constantTimeEqual(signature, expected)) matched = true;
  }
  if (!matched) return { valid: false, reason: 'bad-signature', message: 'No webhook-signature matches this subscription’s secret' };
  return { valid: true, id, timestamp };
}
