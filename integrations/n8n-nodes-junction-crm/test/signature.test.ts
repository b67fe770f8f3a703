import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign, verifyDelivery } from '../nodes/shared/signature';

// A delivery as the CRM's signer (src/webhooks/delivery/signer.ts) produced it, during a secret rotation.
const BODY = '{"event_id":"5c78282f-82ff-4e5f-9c8a-05a5b02a3745","event_name":"contact.created","email":"jöhn@example.com","custom_fields":{"2":"b","a":1}}';
const ID = '5c78282f-82ff-4e5f-9c8a-05a5b02a3745';
const TIMESTAMP = 1795898615;
const NEW_SECRET = 'whsec_7tgAE1D6J3MxDtfT+yYGDDVmUSLRXZxomHe8XS3FQKE=';
const OLD_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=';
const CRM_HEADERS = {
  'webhook-id': ID,
  'webhook-timestamp': String(TIMESTAMP),
  'webhook-signature': 'v1,sthnFEBsyTdKUjLKR2pCWPqMPBeLWAFOlUGx9XLtN58= v1,ub+dZz4xb6dBXsPeh2uy8Lg1Jvg7EZ0fFjr4j98xCnY=',
  'x-webhook-signature': '3aa73dd5ccf0695963d3b326592033c15f865aafaf7f97c70c4d66e74de3f80c',
};

const verify = (overrides: Partial<Parameters<typeof verifyDelivery>[0]> = {}) =>
  verifyDelivery({ secrets: [NEW_SECRET], headers: CRM_HEADERS, rawBody: Buffer.from(BODY, 'utf8'), nowSeconds: TIMESTAMP + 3, ...overrides });

describe('verifyDelivery', () => {
  it('accepts a delivery signed by the CRM with the current secret', () => {
    expect(verify()).toEqual({ valid: true, id: ID, timestamp: TIMESTAMP });
  });

  it('accepts either secret during a rotation (the header lists two signatures)', () => {
    expect(verify({ secrets: [OLD_SECRET] }).valid).toBe(true);
    expect(verify({ secrets: ['whsec_' + Buffer.alloc(32, 7).toString('base64'), OLD_SECRET] }).valid).toBe(true);
  });

  it('takes the raw body as a string or as bytes', () => {
    expect(verify({ rawBody: BODY }).valid).toBe(true);
  });

  it('computes what the CRM computes: base64 HMAC-SHA256 of "id.timestamp.body" keyed with the decoded secret', () => {
    const key = Buffer.from(NEW_SECRET.slice('whsec_'.length), 'base64');
    const expected = `v1,${createHmac('sha256', key).update(`${ID}.${TIMESTAMP}.${BODY}`).digest('base64')}`;
    expect(sign(NEW_SECRET, ID, TIMESTAMP, BODY)).toBe(expected);
    expect(CRM_HEADERS['webhook-signature'].split(' ')[0]).toBe(expected);
  });

  it('refuses a body changed by one byte', () => {
    const result = verify({ rawBody: BODY.replace('jöhn', 'john') });
    expect(result).toMatchObject({ valid: false, reason: 'bad-signature' });
  });

  it('refuses a signature made with another secret', () => {
    expect(verify({ secrets: ['whsec_' + Buffer.alloc(32, 1).toString('base64')] })).toMatchObject({ valid: false, reason: 'bad-signature' });
  });

  it('refuses the seed’s hex signature alone (it does not cover the timestamp)', () => {
    const headers = { ...CRM_HEADERS, 'webhook-signature': CRM_HEADERS['x-webhook-signature'] };
    expect(verify({ headers })).toMatchObject({ valid: false, reason: 'bad-signature' });
  });

  it('refuses a replay: the same signed request more than 5 minutes later', () => {
    expect(verify({ nowSeconds: TIMESTAMP + 301 })).toMatchObject({ valid: false, reason: 'stale-timestamp' });
    expect(verify({ nowSeconds: TIMESTAMP + 300 }).valid).toBe(true);
  });

  it('refuses a timestamp more than 5 minutes in the future', () => {
    expect(verify({ nowSeconds: TIMESTAMP - 301 })).toMatchObject({ valid: false, reason: 'stale-timestamp' });
  });

  it('refuses a moved timestamp even when it is fresh (the signature covers it)', () => {
    const headers = { ...CRM_HEADERS, 'webhook-timestamp': String(TIMESTAMP + 10) };
    expect(verify({ headers })).toMatchObject({ valid: false, reason: 'bad-signature' });
  });

  it('refuses missing headers, a non-numeric timestamp and unknown signature versions', () => {
    const { 'webhook-signature': _drop, ...noSignature } = CRM_HEADERS;
    expect(verify({ headers: noSignature })).toMatchObject({ valid: false, reason: 'missing-headers' });
    expect(verify({ headers: { ...CRM_HEADERS, 'webhook-timestamp': '1795898615.5' } })).toMatchObject({ valid: false, reason: 'bad-timestamp' });
    const v2 = CRM_HEADERS['webhook-signature'].replace(/v1,/g, 'v2,');
    expect(verify({ headers: { ...CRM_HEADERS, 'webhook-signature': v2 } })).toMatchObject({ valid: false, reason: 'bad-signature' });
  });

  it('refuses everything when the trigger holds no secret', () => {
    expect(verify({ secrets: [undefined, ''] })).toMatchObject({ valid: false, reason: 'no-secret' });
  });

  it('refuses a signature of another length without throwing', () => {
    const headers = { ...CRM_HEADERS, 'webhook-signature': 'v1,short' };
    expect(verify({ headers })).toMatchObject({ valid: false, reason: 'bad-signature' });
  });
});
