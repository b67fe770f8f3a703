import { describe, expect, it } from 'vitest';
import { findUnstorable, MAX_JSON_DEPTH } from './storable-text.pipe.js';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
}

describe('findUnstorable', () => {
  it('passes ordinary text, emoji (surrogate pairs), numbers, null and empty containers', () => {
    expect(findUnstorable({ name: 'Zoë 😀', n: 1, ok: true, none: null, list: [], obj: {} })).toBeNull();
    expect(findUnstorable('😀')).toBeNull();
    expect(findUnstorable(undefined)).toBeNull();
  });

  it('names a NUL character by its dotted path', () => {
    expect(findUnstorable({ contact: { notes: 'a\u0000b' } })).toEqual({ field: 'contact.notes', reason: expect.stringMatching(/NUL/) });
  });

  it('numbers array elements in the path', () => {
    expect(findUnstorable({ contacts: [{ email: 'ok' }, { email: 'x\u0000' }] })).toEqual({ field: 'contacts.1.email', reason: expect.stringMatching(/NUL/) });
  });

  it('finds a lone high or low surrogate, but not a well-formed pair', () => {
    expect(findUnstorable({ a: 'x\uD800' })?.reason).toMatch(/surrogate/);
    expect(findUnstorable({ a: '\uDC00x' })?.reason).toMatch(/surrogate/);
    expect(findUnstorable({ a: '\uDC00\uD800' })?.reason).toMatch(/surrogate/);
    expect(findUnstorable({ a: '\uD83D\uDE00' })).toBeNull();
  });

  it('checks keys too, naming the object that holds the bad key', () => {
    expect(findUnstorable({ custom: { 'k\u0000': 1 } })).toEqual({ field: 'custom', reason: expect.stringMatching(/^has a key that contains a NUL/) });
    expect(findUnstorable({ 'k\u0000': 1 })?.field).toBe('body');
  });

  it('prefixes paths with the root it is given (a query or param name)', () => {
    expect(findUnstorable('a\u0000', 'q')?.field).toBe('q');
    expect(findUnstorable({ email: 'a\u0000' }, 'query')?.field).toBe('query.email');
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and refuses one more`, () => {
    expect(findUnstorable(nested(MAX_JSON_DEPTH))).toBeNull();
    expect(findUnstorable(nested(MAX_JSON_DEPTH + 1))?.reason).toMatch(/nested deeper than/);
  });

  it('survives very deep input without overflowing the stack', () => {
    expect(findUnstorable(nested(100_000))?.reason).toMatch(/nested deeper than/);
  });
});
