/** Helpers of the trigger's subscription lifecycle that need no n8n. */

/** A URL compared the way the CRM stores it: lower-case scheme and host, default port dropped, "/" for an empty path. */
export function normalizeUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

export function targetMatches(stored: string, webhookUrl: string): boolean {
  const strip = (url: string) => normalizeUrl(url).replace(/\/+$/, '');
  return strip(stored) === strip(webhookUrl);
}

/** The subscription's description in the CRM, so an operator can tell which workflow owns it (at most 500 characters). */
export function subscriptionDescription(workflowName: string | undefined, nodeName: string): string {
  return `n8n: ${workflowName || 'workflow'} / ${nodeName}`.slice(0, 500);
}

/**
 * The trigger's Filter parameter as the subscription's `filter`: a JSON object (given as text or already
 * parsed by n8n), or null when empty. Anything else is refused with a message for the user.
 */
export function parseFilter(value: unknown): Record<string, unknown> | null {
  let parsed = value;
  if (typeof value === 'string') {
    if (value.trim() === '') return null;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new Error('Filter must be a JSON object, such as {"stage": "won"}');
    }
  }
  if (parsed === undefined || parsed === null) return null;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('Filter must be a JSON object, such as {"stage": "won"}');
  return Object.keys(parsed).length ? (parsed as Record<string, unknown>) : null;
}

/** Two filters compared by content, key order ignored (null, undefined and {} are the same: no filter). */
export function sameFilter(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
    }
    return value;
  };
  const normal = (value: unknown) => (value && typeof value === 'object' && Object.keys(value).length ? JSON.stringify(canonical(value)) : 'null');
  return normal(a) === normal(b);
}
