import { describe, expect, it } from 'vitest';
import { definedFields, diffFields } from './record-fields.js';

interface Snapshot {
  name: string;
  phone: string | null;
  amount: string;
  custom: Record<string, unknown> | null;
  tags: string[];
  ignored: string;
}

const before: Snapshot = { name: 'Ada', phone: null, amount: '10.00', custom: { a: 1, b: { c: 2, d: 3 } }, tags: ['x', 'y'], ignored: 'one' };
const FIELDS = ['name', 'phone', 'amount', 'custom', 'tags'] as const;

describe('diffFields', () => {
  it('is empty when nothing changed', () => {
    expect(diffFields(before, { ...before }, FIELDS)).toEqual({});
  });

  it('names each changed field with its old and new value', () => {
    const after = { ...before, name: 'Grace', phone: '+1 555 0100' };
    expect(diffFields(before, after, FIELDS)).toEqual({ name: { from: 'Ada', to: 'Grace' }, phone: { from: null, to: '+1 555 0100' } });
  });

  it('looks only at the fields it is given', () => {
    expect(diffFields(before, { ...before, ignored: 'two' }, FIELDS)).toEqual({});
  });

  it('treats objects with the same content in another key order as unchanged, at any depth', () => {
    const after = { ...before, custom: { b: { d: 3, c: 2 }, a: 1 } };
    expect(diffFields(before, after, FIELDS)).toEqual({});
  });

  it('sees a change deep inside an object', () => {
    const after = { ...before, custom: { a: 1, b: { c: 2, d: 4 } } };
    expect(diffFields(before, after, FIELDS)).toEqual({ custom: { from: before.custom, to: after.custom } });
  });

  it('treats a reordered array as a change (order is data)', () => {
    expect(Object.keys(diffFields(before, { ...before, tags: ['y', 'x'] }, FIELDS))).toEqual(['tags']);
  });

  it('tells null from an empty object and from undefined-as-absent', () => {
    expect(Object.keys(diffFields(before, { ...before, custom: {} }, FIELDS))).toEqual(['custom']);
    expect(Object.keys(diffFields({ ...before, custom: null }, { ...before, custom: {} }, FIELDS))).toEqual(['custom']);
    expect(Object.keys(diffFields({ ...before, phone: null }, { ...before, phone: '' }, FIELDS))).toEqual(['phone']);
  });

  it('tells the string "10" from the number 10', () => {
    const a = { value: '10' as unknown };
    const b = { value: 10 as unknown };
    expect(diffFields(a, b, ['value'])).toEqual({ value: { from: '10', to: 10 } });
  });
});

describe('definedFields', () => {
  it('drops the fields left undefined and keeps null, empty and falsy values', () => {
    expect(definedFields({ a: undefined, b: null, c: '', d: 0, e: false, f: 'x' })).toEqual({ b: null, c: '', d: 0, e: false, f: 'x' });
  });
});
