import { describe, expect, it } from 'vitest';
import { canonicalAmount, isPositiveAmount } from './money.js';

describe('canonicalAmount', () => {
  it.each([
    [49, '49.00'],
    [49.5, '49.50'],
    ['49.50', '49.50'],
    ['49.5', '49.50'],
    [' 49 ', '49.00'],
    ['0', '0.00'],
    [0, '0.00'],
    ['007.10', '7.10'],
    ['999999999999.99', '999999999999.99'],
  ])('writes %j as numeric(14,2) text %j', (input, expected) => {
    expect(canonicalAmount(input)).toBe(expected);
  });

  it.each([
    [-1],
    ['-1.00'],
    ['1.005'],
    [1.005],
    ['1,50'],
    ['1e3'],
    [1e21],
    ['1000000000000'],
    ['.5'],
    ['5.'],
    [''],
    [NaN],
    [Infinity],
    [null],
    [undefined],
    [{ amount: 1 }],
    [true],
  ])('refuses %j', (input) => {
    expect(canonicalAmount(input)).toBeNull();
  });

  it('keeps a 12-digit amount exact (no float rounding)', () => {
    expect(canonicalAmount('123456789012.34')).toBe('123456789012.34');
  });
});

describe('isPositiveAmount', () => {
  it.each([['0.01'], ['1.00'], ['10.50'], ['100']])('is true for %j', (amount) => {
    expect(isPositiveAmount(amount)).toBe(true);
  });

  it.each([['0'], ['0.0'], ['0.00'], ['000.00'], ['-1.00'], ['abc'], ['']])('is false for %j', (amount) => {
    expect(isPositiveAmount(amount)).toBe(false);
  });

  it('agrees with canonicalAmount on what zero is', () => {
    expect(isPositiveAmount(canonicalAmount(0)!)).toBe(false);
    expect(isPositiveAmount(canonicalAmount('0.001') ?? '0.00')).toBe(false);
    expect(isPositiveAmount(canonicalAmount(0.01)!)).toBe(true);
  });
});
