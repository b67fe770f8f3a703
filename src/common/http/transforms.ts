import { ValidateIf } from 'class-validator';

type TransformInput = { value: unknown };

/** class-transformer helpers shared by the DTOs: normalise strings before validation. */
export const trimmed = ({ value }: TransformInput): unknown => (typeof value === 'string' ? value.trim() : value);

/** Trims; an empty string becomes null (clears an optional field). */
export const trimmedOrNull = ({ value }: TransformInput): unknown => {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  return text === '' ? null : text;
};

export const upperTrimmed = ({ value }: TransformInput): unknown => (typeof value === 'string' ? value.trim().toUpperCase() : value);

export const lowerTrimmed = ({ value }: TransformInput): unknown => (typeof value === 'string' ? value.trim().toLowerCase() : value);

/** For fields the table cannot hold as null: null is validated (and refused) rather than skipped like IsOptional would. */
export const unlessAbsent = ValidateIf((_object: object, value: unknown) => value !== undefined);
