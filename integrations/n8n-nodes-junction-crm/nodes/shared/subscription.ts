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
