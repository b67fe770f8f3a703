import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { invalidField } from '../errors/app-error.js';

/** Deeper JSON than this is refused: no record needs it, and deeper input only costs stack further on. */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Any NUL or surrogate at all: a cheap test that clears nearly every string before the exact ones run. */
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/** Why PostgreSQL cannot store this string (text and jsonb refuse both), or null when it can. */
function unstorable(text: string): string | null {
  if (!SUSPECT.test(text)) return null;
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (such as \\ud800), which is not valid Unicode and cannot be stored';
  return null;
}

/** A value on the walk's stack; its dotted path is only spelled out for the one that is reported. */
interface Frame {
  value: unknown;
  depth: number;
  key: string;
  parent: Frame | null;
}

function pathOf(frame: Frame | null): string {
  const keys: string[] = [];
  for (let at = frame; at; at = at.parent) if (at.key !== '') keys.push(at.key);
  return keys.reverse().join('.');
}

/**
 * Finds the first string (value or key, at any depth) that PostgreSQL cannot store, and the first value
 * nested deeper than MAX_JSON_DEPTH; returns its dotted path and the reason. Iterative, so any input is safe.
 */
export function findUnstorable(value: unknown, root = ''): { field: string; reason: string } | null {
  const stack: Frame[] = [{ value, depth: 0, key: root, parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const current = frame.value;
    if (typeof current === 'string') {
      const reason = unstorable(current);
      if (reason) return { field: pathOf(frame), reason };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (frame.depth >= MAX_JSON_DEPTH) return { field: pathOf(frame), reason: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const key in current) {
      if (!Object.hasOwn(current, key)) continue;
      const keyReason = unstorable(key);
      if (keyReason) return { field: pathOf(frame) || 'body', reason: `has a key that ${keyReason}` };
      stack.push({ value: (current as Record<string, unknown>)[key], depth: frame.depth + 1, key, parent: frame });
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
