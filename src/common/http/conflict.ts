export const UNIQUE_VIOLATION = '23505';

/** True when a database error is a unique-constraint violation (of the named constraint, if given). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const candidate = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = candidate.code ?? candidate.driverError?.code;
  const name = candidate.constraint ?? candidate.driverError?.constraint;
  return code === UNIQUE_VIOLATION && (constraint === undefined || name === constraint);
}
