/**
 * The body a webhook delivery carries for an event: its stored payload with the envelope first. The event
 * feed serves the same objects, so a poller and a webhook receiver see byte-identical JSON.
 */
export function deliveryBody(payload: Record<string, unknown>): Record<string, unknown> {
  const { event_id, event_name, occurred_at, tenant_id, ...fields } = payload;
  return { event_id, event_name, occurred_at, tenant_id, ...fields };
}

/** The request body: compact JSON with the envelope first, exactly the bytes that are signed. */
export function serializeBody(payload: Record<string, unknown>): string {
  return JSON.stringify(deliveryBody(payload));
}
