import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './error-codes.js';

/** The rows of docs/errors.md's table: code → status, as a reader sees them. */
function documentedCodes(): Map<string, number> {
  const page = readFileSync(join(import.meta.dirname, '../../../docs/errors.md'), 'utf8');
  const rows = new Map<string, number>();
  for (const match of page.matchAll(/^\| `([A-Z0-9_]+)` \| (\d{3}) \| (.+) \|$/gm)) {
    expect(rows.has(match[1]), `${match[1]} is listed twice in docs/errors.md`).toBe(false);
    expect(match[3].trim(), `${match[1]} has no meaning in docs/errors.md`).not.toBe('');
    rows.set(match[1], Number(match[2]));
  }
  return rows;
}

describe('docs/errors.md', () => {
  const documented = documentedCodes();

  it('lists every error code with the status it is sent with', () => {
    const expected = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]));
    expect(Object.fromEntries(documented)).toEqual(expected);
  });

  it('lists no code the server does not send', () => {
    const unknown = [...documented.keys()].filter((code) => !(code in ERROR_CODES));
    expect(unknown).toEqual([]);
  });
});
