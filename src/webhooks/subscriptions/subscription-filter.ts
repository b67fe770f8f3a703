import { ValidateBy, type ValidationOptions } from 'class-validator';

export const FILTER_MAX_BYTES = 4096;
export const FILTER_MAX_DEPTH = 5;

/** Past this depth the filter is refused (NUL and lone surrogates are refused for every body by StorableTextPipe). */
function tooDeep(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > FILTER_MAX_DEPTH) return true;
  return Object.values(value).some((inner) => tooDeep(inner, depth + 1));
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
  return tooDeep(value, 1) ? `filter must not be nested deeper than ${FILTER_MAX_DEPTH} levels` : null;
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
