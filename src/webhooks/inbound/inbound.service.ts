import { Inject, Injectable } from '@nestjs/common';
import { AppError, invalidField } from '../../common/errors/app-error.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context.js';
import { paginate } from '../../common/http/pagination.js';
import { PgListener } from '../../database/pg-listener.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { IntegrationEventDto, type ListIntegrationEventsQueryDto, type ReceivedEventDto } from './dto/integration-event.dto.js';
import { INBOUND_HANDLERS, InvalidPayloadError, type InboundHandler } from './handlers/inbound-handler.js';
import { IntegrationEvent } from './integration-event.entity.js';
import { nearestName } from './nearest-name.js';
import { TokenBucketLimiter } from './rate-limiter.js';

/** The channel that wakes the inbound processors after an insert. */
export const INBOUND_CHANNEL = 'junction_inbound_events';
export const INBOUND_EVENT_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
const IDEMPOTENCY_WINDOW = '24 hours';
/** Names documented as stored and ignored (the original guide's connectivity test): no warning for them. */
const IGNORED_BY_DESIGN: ReadonlySet<string> = new Set(['test.event']);
const MAX_IDEMPOTENCY_KEY = 255;

interface StoredRow {
  id: string;
  tenant_id: string;
  event_name: string;
  payload: Record<string, unknown>;
  status: ReceivedEventDto['status'];
  received_at: Date;
}

function toReceived(row: StoredRow): ReceivedEventDto {
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
  private readonly handlers: Map<string, InboundHandler>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly notifications: PgListener,
    @Inject(INBOUND_HANDLERS) handlers: InboundHandler[],
  ) {
    this.limiter = new TokenBucketLimiter(config.inboundRateLimit, config.inboundRateBurst);
    this.handlers = new Map(handlers.map((handler) => [handler.eventName, handler]));
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
    const warning = this.checkPayload(eventName, body as Record<string, unknown>);
    const { duplicate, event } = await this.store(tenantId, eventName, body, idempotencyKey);
    return { duplicate, event: warning ? { ...event, warning } : event };
  }

  /** Throws a 400 for a payload its handler cannot use; for a name with no handler, the warning to answer with. */
  private checkPayload(eventName: string, payload: Record<string, unknown>): string | undefined {
    const handler = this.handlers.get(eventName);
    if (!handler && IGNORED_BY_DESIGN.has(eventName)) return undefined;
    if (!handler) {
      const known = [...this.handlers.keys()];
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

  private async store(tenantId: string, eventName: string, body: unknown, idempotencyKey: string | undefined): Promise<{ duplicate: boolean; event: ReceivedEventDto }> {
    for (let tries = 0; tries < 3; tries += 1) {
      const [inserted] = await this.dataSource.query<StoredRow[]>(
        `INSERT INTO integration_events (tenant_id, event_name, payload, idempotency_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id, tenant_id, event_name, payload, status, received_at`,
        [tenantId, eventName, JSON.stringify(body), idempotencyKey ?? null],
      );
      if (inserted) {
        this.notifications.notifySoon(INBOUND_CHANNEL);
        return { duplicate: false, event: toReceived(inserted) };
      }
      const [first] = await this.dataSource.query<Array<StoredRow & { expired: boolean }>>(
        `SELECT id, tenant_id, event_name, payload, status, received_at, received_at < now() - interval '${IDEMPOTENCY_WINDOW}' AS expired
           FROM integration_events WHERE tenant_id = $1 AND idempotency_key = $2`,
        [tenantId, idempotencyKey],
      );
      if (first && !first.expired) return { duplicate: true, event: toReceived(first) };
      // The key's 24 hours are over: release it from the old event and store this one.
      if (first) await this.dataSource.query(`UPDATE integration_events SET idempotency_key = NULL WHERE id = $1`, [first.id]);
    }
    throw new Error('Could not store the inbound event after 3 tries');
  }

  async list(auth: AuthContext, query: ListIntegrationEventsQueryDto): Promise<{ data: IntegrationEventDto[]; next_cursor: string | null }> {
    const builder = this.dataSource.getRepository(IntegrationEvent).createQueryBuilder('e').where('e.tenantId = :tenantId', { tenantId: auth.tenantId });
    if (query.status) builder.andWhere('e.status = :status', { status: query.status });
    if (query.event_name) builder.andWhere('e.eventName = :eventName', { eventName: query.event_name });
    return paginate(builder, query, IntegrationEventDto.from, 'receivedAt');
  }

  async get(auth: AuthContext, id: string): Promise<IntegrationEventDto> {
    const event = await this.dataSource.getRepository(IntegrationEvent).findOneBy({ id, tenantId: auth.tenantId });
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
    await this.dataSource.query(
      `WITH updated AS (
         UPDATE integration_events SET status = 'received', next_attempt_at = now(), error_message = NULL, processed_at = NULL, result = NULL
          WHERE id = $1 AND tenant_id = $2 RETURNING id)
       SELECT pg_notify($3, '') FROM updated`,
      [id, auth.tenantId, INBOUND_CHANNEL],
    );
    return this.get(auth, id);
  }
}
