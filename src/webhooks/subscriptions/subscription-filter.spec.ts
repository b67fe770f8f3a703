import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { FILTER_MAX_BYTES, FILTER_MAX_DEPTH, filterProblem, IsSubscriptionFilter } from './subscription-filter.js';

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { stage: 'won' };
  for (let i = 1; i < levels; i++) value = { n: value };
  return value;
}

describe('filterProblem', () => {
  it('accepts a JSON object, including an empty one and arrays inside it', () => {
    expect(filterProblem({ stage: 'won' })).toBeNull();
    expect(filterProblem({})).toBeNull();
    expect(filterProblem({ tags: ['vip'], custom: { tier: 'gold' } })).toBeNull();
  });

  it.each([[null], [[{ stage: 'won' }]], ['{"stage":"won"}'], [1], [true], [undefined]])('refuses %j, which is not an object', (value) => {
    expect(filterProblem(value)).toMatch(/must be a JSON object/);
  });

  it(`accepts exactly ${FILTER_MAX_BYTES} bytes of JSON and refuses one more, counting bytes rather than characters`, () => {
    const overhead = JSON.stringify({ k: '' }).length;
    expect(filterProblem({ k: 'x'.repeat(FILTER_MAX_BYTES - overhead) })).toBeNull();
    expect(filterProblem({ k: 'x'.repeat(FILTER_MAX_BYTES - overhead + 1) })).toMatch(/at most 4096 bytes/);
    // 'é' is two bytes in UTF-8: half as many characters already reach the limit.
    expect(filterProblem({ k: 'é'.repeat((FILTER_MAX_BYTES - overhead) / 2 + 1) })).toMatch(/bytes/);
  });

  it(`accepts ${FILTER_MAX_DEPTH} levels of objects and refuses ${FILTER_MAX_DEPTH + 1}`, () => {
    expect(filterProblem(nested(FILTER_MAX_DEPTH))).toBeNull();
    expect(filterProblem(nested(FILTER_MAX_DEPTH + 1))).toMatch(/nested deeper than 5/);
  });

  it('counts arrays as a level of nesting', () => {
    expect(filterProblem({ a: { b: { c: { d: [1] } } } })).toBeNull();
    expect(filterProblem({ a: { b: { c: { d: [[1]] } } } })).toMatch(/nested deeper/);
  });
});

class Body {
  @IsSubscriptionFilter()
  filter!: unknown;
}

describe('IsSubscriptionFilter', () => {
  const errors = (filter: unknown) => validateSync(plainToInstance(Body, { filter }));

  it('lets null through (it removes the filter) and a valid object', () => {
    expect(errors(null)).toEqual([]);
    expect(errors({ stage: 'won' })).toEqual([]);
  });

  it("reports filterProblem's message for a bad filter", () => {
    const [error] = errors(['won']);
    expect(error.property).toBe('filter');
    expect(Object.values(error.constraints ?? {})).toEqual([filterProblem(['won'])]);
  });
});
