import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../subscriptions/webhook-secrets.service.js';
import { seedSignature, signatureHeaders } from './signer.js';

describe('signer', () => {
  const body = JSON.stringify({ contact_id: '550e8400-e29b-41d4-a716-446655440000', email: 'john@example.com' });

  it("matches the seed guide's computation (hex HMAC of JSON.stringify(body) keyed with the secret string)", () => {
    const secret = generateWebhookSecret();
    const expected = createHmac('sha256', secret).update(JSON.stringify(JSON.parse(body))).digest('hex');
    expect(seedSignature(secret, body)).toBe(expected);
  });

  it('is verified by the standardwebhooks library, and a tampered body is not', () => {
    const secret = generateWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = signatureHeaders({ id: 'evt_1', timestamp, body, secret });
    const webhook = new Webhook(secret);
    expect(webhook.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => webhook.verify(body.replace('john', 'jane'), headers)).toThrow();
  });

  it('signs with both secrets during a rotation', () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = signatureHeaders({ id: 'evt_2', timestamp: Math.floor(Date.now() / 1000), body, secret: newSecret, previousSecret: oldSecret });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, headers)).toBeTruthy();
    expect(new Webhook(newSecret).verify(body, headers)).toBeTruthy();
    expect(headers['X-Webhook-Signature']).toBe(seedSignature(newSecret, body));
    expect(headers['X-Webhook-Signature-Previous']).toBe(seedSignature(oldSecret, body));
  });
});
