import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { DOMAIN_EVENT, type PublishedEvent } from '../../events/domain-event-publisher.js';
import { subscriptionKeysFor } from '../subscriptions/event-patterns.js';

/** The channel a commit that created deliveries notifies (PostgreSQL delivers NOTIFY only on commit). */
export const DELIVERIES_CHANNEL = 'junction_webhook_deliveries';

/**
 * The transactional fan-out: in the transaction that published the event, one delivery row per enabled
 * subscription whose event_name matches it and whose filter (if any) the body contains, in a single INSERT … SELECT. A NOTIFY in the same transaction
 * wakes the delivery workers of every instance once the transaction commits.
 */
@Injectable()
export class FanOutListener {
  // suppressErrors: false, so a failed fan-out rolls the change back instead of losing the event.
  @OnEvent(DOMAIN_EVENT, { suppressErrors: false })
  async fanOut(event: PublishedEvent): Promise<void> {
    const keys = subscriptionKeysFor(event.name);
    if (keys.length === 0) return;
    await event.manager.query(
      `WITH created AS (
         INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name)
         SELECT s.tenant_id, s.id, $2, $3 FROM webhook_subscriptions s
          WHERE s.tenant_id = $1 AND s.enabled AND s.event_name = ANY($4::text[]) AND (s.filter IS NULL OR $6::jsonb @> s.filter)
         RETURNING 1)
       SELECT pg_notify($5, '') FROM (SELECT count(*) AS n FROM created) c WHERE c.n > 0`,
      [event.tenantId, event.id, event.name, keys, DELIVERIES_CHANNEL, JSON.stringify(event.payload)],
    );
  }
}
