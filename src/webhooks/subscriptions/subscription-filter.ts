import { ValidateBy, type ValidationOptions } from 'class-validator';

export const FILTER_MAX_BYTES = 4096;
export const FILTER_MAX_DEPTH = 5;

/** Text PostgreSQL's jsonb cannot hold: NUL characters and lone UTF-16 surrogates. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemIn(value: unknown, depth: number): string | null {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? 'contains a NUL character or an unpaired surrogate' : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth > FILTER_MAX_DEPTH) return `is nested deeper than ${FILTER_MAX_DEPTH} levels`;
  for (const [key, inner] of Object.entries(value)) {
    const problem = (UNSTORABLE.test(key) ? 'has a key with a NUL character or an unpaired surrogate' : null) ?? problemIn(inner, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/**
 * Why a subscription filter is unusable, or null when it is fine: it must be a JSON object (matched by
 * containment against the delivery body), at most FILTER_MAX_BYTES as JSON and FILTER_MAX_DEPTH deep.
 */
export function filterProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'filter must be a JSON object matched against the delivery body, such as {"stage": "won"} (null removes it)';
  }
  if (Buffer.byteLength(JSON.stringify(value)) > FILTER_MAX_BYTES) return `filter must be at most ${FILTER_MAX_BYTES} bytes as JSON`;
  const problem = problemIn(value, 1);
  return problem ? `filter ${problem}` : null;
}

/** class-validator rule for `filter` (null is let through: it means "no filter"). */
export function IsSubscriptionFilter(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSubscriptionFilter',
      validator: {
        validate: (value: unknown) => value === null || filterProblem(value) === null,
        defaultMessage: (args) => filterProblem(args?.value) ?? 'filter is not valid',
      },
    },
    options,
  );
}
