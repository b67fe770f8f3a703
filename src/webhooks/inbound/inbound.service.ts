import { Inject, Injectable } from '@nestjs/common';
import type { AuthContext } from '../../common/auth/auth-context.js';
import { AppError, invalidField } from '../../common/errors/app-error.js';
import { paginate } from '../../common/http/pagination.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { PgListener } from '../../database/pg-listener.js';
import { IntegrationEventDto, type ListIntegrationEventsQueryDto, type ReceivedEventDto } from './dto/integration-event.dto.js';
import { InboundHandlers, InvalidPayloadError } from './handlers/inbound-handler.js';
import { INBOUND_CHANNEL, IntegrationEventRepository, type StoredEvent } from './integration-event.repository.js';
import { nearestName } from './nearest-name.js';
import { TokenBucketLimiter } from './rate-limiter.js';

export const INBOUND_EVENT_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
/** Names documented as stored and ignored (the original guide's connectivity test): no warning for them. */
const IGNORED_BY_DESIGN: ReadonlySet<string> = new Set(['test.event']);
const MAX_IDEMPOTENCY_KEY = 255;

function toReceived(row: StoredEvent): ReceivedEventDto {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    event_name: row.event_name,
    payload: row.payload,
    status: row.status,
    received_at: new Date(row.received_at).toISOString(),
  };
}

@Injectable()
export class InboundService {
  private readonly limiter: TokenBucketLimiter;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly events: IntegrationEventRepository,
    private readonly notifications: PgListener,
    private readonly handlers: InboundHandlers,
  ) {
    this.limiter = new TokenBucketLimiter(config.inboundRateLimit, config.inboundRateBurst);
  }

  /**
   * Stores an inbound event (one insert) and wakes the processors. The payload of an event that has a
   * handler is checked first (a 400 naming the field, nothing stored); a name with no handler is stored with
   * a `warning`. With an Idempotency-Key seen in the last 24 hours, nothing is stored and the first event is
   * returned (`duplicate`).
   */
  async receive(tenantId: string, eventName: string, body: unknown, idempotencyKey: string | undefined): Promise<{ duplicate: boolean; event: ReceivedEventDto }> {
    const wait = this.limiter.take(tenantId);
    if (wait > 0) {
      throw new AppError('INBOUND_RATE_LIMITED', `Rate limit exceeded for this tenant; retry in ${wait} s`, { headers: { 'retry-after': String(wait) } });
    }
    if (!INBOUND_EVENT_NAME.test(eventName)) {
      throw invalidField('event_name', `event_name "${eventName}" is not valid: use lowercase dotted names such as lead.captured or payment.received`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw invalidField('body', 'The body must be a JSON object, such as {"email": "lead@example.com"}');
    }
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
      throw invalidField('Idempotency-Key', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`);
    }
    const payload = body as Record<string, unknown>;
    const warning = this.checkPayload(eventName, payload);
    const { duplicate, event } = await this.store(tenantId, eventName, payload, idempotencyKey);
    return { duplicate, event: warning ? { ...event, warning } : event };
  }

  /** Throws a 400 for a payload its handler cannot use; for a name with no handler, the warning to answer with. */
  private checkPayload(eventName: string, payload: Record<string, unknown>): string | undefined {
    const handler = this.handlers.get(eventName);
    if (!handler && IGNORED_BY_DESIGN.has(eventName)) return undefined;
    if (!handler) {
      const known = this.handlers.names;
      const nearest = nearestName(eventName, known);
      return nearest
        ? `no handler for "${eventName}"; did you mean "${nearest}"? It is stored and will be ignored`
        : `no handler for "${eventName}": it is stored and will be ignored (handled names: ${known.join(', ')})`;
    }
    try {
      handler.parse(payload);
    } catch (error) {
      if (error instanceof InvalidPayloadError) throw invalidField(error.field, error.message);
      throw error;
    }
    return undefined;
  }

  private async store(tenantId: string, eventName: string, payload: Record<string, unknown>, idempotencyKey: string | undefined): Promise<{ duplicate: boolean; event: ReceivedEventDto }> {
    for (let tries = 0; tries < 3; tries += 1) {
      const inserted = await this.events.insert(tenantId, eventName, payload, idempotencyKey ?? null);
      if (inserted) {
        this.notifications.notifySoon(INBOUND_CHANNEL);
        return { duplicate: false, event: toReceived(inserted) };
      }
      const first = await this.events.findByIdempotencyKey(tenantId, idempotencyKey!);
      if (first && !first.expired) return { duplicate: true, event: toReceived(first) };
      // The key's 24 hours are over: release it from the old event and store this one.
      if (first) await this.events.releaseIdempotencyKey(first.id);
    }
    throw new Error('Could not store the inbound event after 3 tries');
  }

  async list(auth: AuthContext, query: ListIntegrationEventsQueryDto): Promise<{ data: IntegrationEventDto[]; next_cursor: string | null }> {
    return paginate(this.events.listQuery(auth.tenantId, { status: query.status, eventName: query.event_name }), query, IntegrationEventDto.from, 'receivedAt');
  }

  async get(auth: AuthContext, id: string): Promise<IntegrationEventDto> {
    const event = await this.events.find(auth.tenantId, id);
    if (!event) throw new AppError('INBOUND_EVENT_NOT_FOUND', `Inbound event ${id} not found`);
    return IntegrationEventDto.from(event);
  }

  /** Queues an event for processing again, now (a failed or ignored one, typically after a fix). */
  async retry(auth: AuthContext, id: string): Promise<IntegrationEventDto> {
    const event = await this.get(auth, id);
    if (event.status === 'processing' || event.status === 'received') return event;
    if (event.status === 'processed') {
      throw new AppError('INBOUND_EVENT_NOT_RETRYABLE', `Inbound event ${id} was processed already; only failed or ignored events can be retried`);
    }
    await this.events.requeue(auth.tenantId, id);
    return this.get(auth, id);
  }
}
