import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { invalidField } from '../errors/app-error.js';

/** Deeper JSON than this is refused: no record needs it, and deeper input only costs stack further on. */
export const MAX_JSON_DEPTH = 64;

/** Why PostgreSQL cannot store this string (text and jsonb refuse both), or null when it can. */
function unstorable(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (!text.isWellFormed()) return 'contains a lone UTF-16 surrogate (such as \\ud800), which is not valid Unicode and cannot be stored';
  return null;
}

/**
 * Finds the first string (value or key, at any depth) that PostgreSQL cannot store, and the first value
 * nested deeper than MAX_JSON_DEPTH; returns its dotted path and the reason. Iterative, so any input is safe.
 * It runs on every request's body: strings are checked where they are met, and a path is only built for an
 * object to descend into or a string at fault.
 */
export function findUnstorable(value: unknown, root = ''): { field: string; reason: string } | null {
  if (typeof value === 'string') {
    const reason = unstorable(value);
    return reason ? { field: root, reason } : null;
  }
  if (value === null || typeof value !== 'object') return null;
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  const stack: Array<{ value: object; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (depth >= MAX_JSON_DEPTH) return { field: path, reason: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const key of Object.keys(current)) {
      const keyReason = unstorable(key);
      if (keyReason) return { field: path || 'body', reason: `has a key that ${keyReason}` };
      const child = (current as Record<string, unknown>)[key];
      if (typeof child === 'string') {
        const reason = unstorable(child);
        if (reason) return { field: join(path, key), reason };
      } else if (child !== null && typeof child === 'object') {
        stack.push({ value: child, path: join(path, key), depth: depth + 1 });
      }
    }
  }
  return null;
}

/**
 * Global pipe, before validation: any body, query or path value holding a string PostgreSQL cannot store
 * (NUL, lone surrogates) is a 400 naming the field, so such input never reaches the database as a 500.
 */
@Injectable()
export class StorableTextPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const found = findUnstorable(value, metadata.data ?? '');
    if (found) {
      const field = found.field || metadata.type;
      throw invalidField(field, `${field}: ${found.reason}`);
    }
    return value;
  }
}
