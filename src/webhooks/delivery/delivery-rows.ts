import type { DeliveryStatus } from './webhook-delivery.entity.js';

/** The typed rows of the delivery queue, as WebhookDeliveryRepository reads and writes them. */

/** A delivery as a worker holds it (leased), with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  subscriptionId: string;
  eventId: string;
  eventName: string;
  /** Attempts including the one being made. */
  attempts: number;
  payload: Record<string, unknown>;
  occurredAt: Date;
  targetUrl: string;
  enabled: boolean;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
  headersEncrypted: string | null;
  failingSince: Date | null;
  /** False for one-off sends (the test endpoint): a failure is final. */
  retryable?: boolean;
}

/** The outcome of one attempt, as written to the delivery row and the attempt log. */
export interface DeliveryOutcomeRow {
  /** Chosen by the writer, so that writing a batch again after an unanswered COMMIT adds no second attempt row. */
  attemptId: string;
  deliveryId: string;
  subscriptionId: string;
  succeeded: boolean;
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  errorCode: string | null;
  errorMessage: string | null;
  responseExcerpt: string | null;
}

export interface ClaimLimits {
  limit: number;
  leaseSeconds: number;
  /** Most deliveries one subscription may hold in this instance (in flight and queued). */
  perSubscription: number;
  /** Deliveries each subscription holds in this instance now. */
  held: ReadonlyMap<string, number>;
}

export interface ClaimedRow {
  id: string;
  tenant_id: string;
  subscription_id: string;
  event_id: string;
  event_name: string;
  attempts: number;
  payload: Record<string, unknown>;
  occurred_at: Date;
  target_url: string;
  enabled: boolean;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  headers_encrypted: string | null;
  failing_since: Date | null;
}

/** The columns of a claim: the delivery, its event's payload and its subscription's target and secrets. */
export const CLAIMED_COLUMNS = `d.id, d.tenant_id, d.subscription_id, d.event_id, d.event_name, d.attempts,
  e.payload, e.occurred_at, s.target_url, s.enabled, s.secret_encrypted, s.previous_secret_encrypted,
  s.previous_secret_expires_at, s.headers_encrypted, s.failing_since`;

export function toClaimed(row: ClaimedRow): ClaimedDelivery {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    subscriptionId: row.subscription_id,
    eventId: row.event_id,
    eventName: row.event_name,
    attempts: row.attempts,
    payload: row.payload,
    occurredAt: new Date(row.occurred_at),
    targetUrl: row.target_url,
    enabled: row.enabled,
    secretEncrypted: row.secret_encrypted,
    previousSecretEncrypted: row.previous_secret_encrypted,
    previousSecretExpiresAt: row.previous_secret_expires_at ? new Date(row.previous_secret_expires_at) : null,
    headersEncrypted: row.headers_encrypted,
    failingSince: row.failing_since ? new Date(row.failing_since) : null,
  };
}
