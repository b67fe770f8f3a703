/** numeric(14,2): at most 12 digits before the point and 2 after. */
export const MONEY = /^\d{1,12}(\.\d{1,2})?$/;
/** An amount greater than zero: MONEY, but not 0, 0.0 or 0.00. */
export const POSITIVE_MONEY = /^(?!0+(\.0+)?$)\d{1,12}(\.\d{1,2})?$/;
/** An ISO 4217 currency code as stored: 3 upper-case letters. */
export const CURRENCY = /^[A-Z]{3}$/;

/**
 * numeric(14,2)'s own text ("49.50") for 49, 49.5 or "49.50", so an amount compares equal to what the
 * database returns; null for anything else (negative, more than 2 decimals, not a number).
 */
export function canonicalAmount(value: unknown): string | null {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !MONEY.test(text)) return null;
  const [whole, fraction = ''] = text.split('.');
  return `${BigInt(whole)}.${fraction.padEnd(2, '0')}`;
}

/** True for a canonical amount greater than zero. */
export const isPositiveAmount = (amount: string): boolean => POSITIVE_MONEY.test(amount);

/** Transformer: an amount becomes its canonical text; anything else is left as it came, for the validator to reject. */
export const toMoney = ({ value }: { value: unknown }): unknown => canonicalAmount(value) ?? value;
