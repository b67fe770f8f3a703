import { createHmac } from 'node:crypto';
import { SECRET_PREFIX } from '../subscriptions/webhook-secrets.service.js';

/** The seed's signature: lowercase hex HMAC-SHA256 of the exact body, keyed with the secret string as written. */
export function seedSignature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/**
 * The Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed with
 * the base64-decoded part of the secret after `whsec_`.
 */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
}

export interface SignedHeaders {
  [name: string]: string;
}

/**
 * Every signature header of one attempt. During a rotation both secrets sign: `webhook-signature` lists
 * both (space-separated, as the standard allows), X-Webhook-Signature carries the current secret's and
 * X-Webhook-Signature-Previous the old one's.
 */
export function signatureHeaders(input: { id: string; timestamp: number; body: string; secret: string; previousSecret?: string | null }): SignedHeaders {
  const { id, timestamp, body, secret, previousSecret } = input;
  const standard = [standardSignature(secret, id, timestamp, body)];
  const headers: SignedHeaders = {
    'X-Webhook-Id': id,
    'X-Webhook-Timestamp': String(timestamp),
    'X-Webhook-Signature': seedSignature(secret, body),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
  };
  if (previousSecret) {
    standard.push(standardSignature(previousSecret, id, timestamp, body));
    headers['X-Webhook-Signature-Previous'] = seedSignature(previousSecret, body);
  }
  headers['webhook-signature'] = standard.join(' ');
  return headers;
}
