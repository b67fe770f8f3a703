/** What changed in one field of a record: its value before and after, as event payloads carry them. */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/** The fields given, without the ones left undefined ("not given" in a partial update). */
export function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

/** Field-by-field differences between two snapshots; only fields whose value really changed. */
export function diffFields<T extends object>(before: T, after: T, fields: ReadonlyArray<keyof T & string>): FieldChanges {
  const changes: FieldChanges = {};
  for (const field of fields) {
    if (canonical(before[field]) !== canonical(after[field])) changes[field] = { from: before[field], to: after[field] };
  }
  return changes;
}
