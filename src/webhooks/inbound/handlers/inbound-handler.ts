import type { EntityManager } from 'typeorm';

/** What a handler gets: the stored inbound event and the transaction to make its changes in. */
export interface InboundEventContext {
  eventId: string;
  tenantId: string;
  eventName: string;
  payload: Record<string, unknown>;
  manager: EntityManager;
}

/**
 * Processes one inbound event name. `parse` checks the payload without touching the database (run at send
 * time, so a bad payload is a 400 then); `handle` makes the changes and returns the result stored on the
 * event (e.g. {contact_id, action}). `handleMany`, when a handler has it, applies several events of one tenant
 * in order, with fewer statements than one `handle` each (the processor's batches use it; when it fails, the
 * batch runs again event by event through `handle`); its results are `handle`'s, one per event.
 */
export interface InboundHandler<Parsed = unknown> {
  readonly eventName: string;
  parse(payload: Record<string, unknown>): Parsed;
  handle(context: InboundEventContext, parsed: Parsed): Promise<Record<string, unknown>>;
  handleMany?(manager: EntityManager, tenantId: string, parsed: Parsed[]): Promise<Array<Record<string, unknown>>>;
}

/** The handlers by the event name each one handles (built once by InboundModule from its handler list). */
export class InboundHandlers {
  private readonly byName: ReadonlyMap<string, InboundHandler>;

  constructor(handlers: InboundHandler[]) {
    this.byName = new Map(handlers.map((handler) => [handler.eventName, handler]));
  }

  get(eventName: string): InboundHandler | undefined {
    return this.byName.get(eventName);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }
}

/** A payload the handler cannot use (at send time a 400 naming `field`; later the event fails at once, no retry). */
export class InvalidPayloadError extends Error {
  constructor(
    message: string,
    readonly field = 'payload',
  ) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function requireEmail(payload: Record<string, unknown>, field: string): string {
  const value = payload[field];
  if (typeof value !== 'string' || !EMAIL.test(value.trim())) {
    throw new InvalidPayloadError(`${field} is required and must be an email address such as lead@example.com`, field);
  }
  return value.trim();
}

export function optionalString(payload: Record<string, unknown>, field: string, maxLength = 200): string | undefined {
  const value = payload[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw new InvalidPayloadError(`${field} must be a string`, field);
  const text = String(value).trim();
  if (text.length > maxLength) throw new InvalidPayloadError(`${field} must be at most ${maxLength} characters`, field);
  return text || undefined;
}

export function optionalObject(payload: Record<string, unknown>, field: string): Record<string, unknown> | undefined {
  const value = payload[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidPayloadError(`${field} must be a JSON object`, field);
  return value as Record<string, unknown>;
}
