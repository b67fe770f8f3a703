/**
 * The headers of a delivery request, in one place: the worker sends them, and the delivery log shows them
 * (with custom header values masked and the per-attempt signature headers described instead of computed).
 */
export function deliveryRequestHeaders(input: {
  customHeaders: Record<string, string>;
  version: string;
  eventName: string;
  signature: Record<string, string>;
}): Record<string, string> {
  return {
    ...input.customHeaders,
    'Content-Type': 'application/json',
    'User-Agent': `JunctionCRM-Webhooks/${input.version}`,
    'X-Webhook-Event': input.eventName,
    ...input.signature,
  };
}

/** What the delivery log shows for the headers that are signed anew at each attempt. */
export function describedSignatureHeaders(eventId: string, rotating: boolean): Record<string, string> {
  const perAttempt = '(computed at each attempt)';
  return {
    'X-Webhook-Id': eventId,
    'X-Webhook-Timestamp': `${perAttempt} unix seconds`,
    'X-Webhook-Signature': `${perAttempt} hex HMAC-SHA256 of the body`,
    ...(rotating ? { 'X-Webhook-Signature-Previous': `${perAttempt} with the previous secret` } : {}),
    'webhook-id': eventId,
    'webhook-timestamp': `${perAttempt} unix seconds`,
    'webhook-signature': `${perAttempt} v1,<base64>${rotating ? ' v1,<base64 with the previous secret>' : ''}`,
  };
}
