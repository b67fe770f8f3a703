import { describe, expect, it } from 'vitest';
import { editDistance, nearestName } from './nearest-name.js';

const KNOWN = ['lead.captured', 'payment.received', 'contact.upsert'];

describe('nearestName', () => {
  it('suggests the handler a typo was meant for', () => {
    expect(nearestName('lead.capture', KNOWN)).toBe('lead.captured');
    expect(nearestName('payment.recieved', KNOWN)).toBe('payment.received');
    expect(nearestName('contact.upsrt', KNOWN)).toBe('contact.upsert');
  });

  it('suggests nothing for a name unlike every known one', () => {
    expect(nearestName('order.shipped', KNOWN)).toBeNull();
    expect(nearestName('test.event', KNOWN)).toBeNull();
  });

  it('measures edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
