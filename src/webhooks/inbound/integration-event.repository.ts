import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type QueryRunner, type SelectQueryBuilder } from 'typeorm';
import { sql } from '../../database/sql.js';
import { IntegrationEvent, type IntegrationEventStatus } from './integration-event.entity.js';

/** The channel that wakes the inbound processors after an insert or a retry. */
export const INBOUND_CHANNEL = 'junction_inbound_events';
const IDEMPOTENCY_WINDOW = '24 hours';

/** An inbound event as stored, in the columns the 202 answer shows. */
export interface StoredEvent {
  id: string;
  tenant_id: string;
  event_name: string;
  payload: Record<string, unknown>;
  status: IntegrationEventStatus;
  received_at: Date;
}

/** An inbound event as a processor holds it (leased: status 'processing', next_attempt_at the lease's end). */
export interface ClaimedEvent {
  id: string;
  tenant_id: string;
  event_name: string;
  payload: Record<string, unknown>;
  /** Attempts including the one under way: the fence of every later write. */
  attempts: number;
  received_at: Date;
}

const STORED_COLUMNS = 'id, tenant_id, event_name, payload, status, received_at';

/**
 * The one owner of `integration_events`: every statement on it is here — the insert with its Idempotency-Key,
 * the processors' claim and lease (status 'processing', attempts as the fence), outcomes, retries, the log and
 * the retention delete.
 */
@Injectable()
export class IntegrationEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Stores one event; null when the tenant already has an event with this Idempotency-Key. */
  async insert(tenantId: string, eventName: string, payload: unknown, idempotencyKey: string | null): Promise<StoredEvent | null> {
    const { rows } = await sql<StoredEvent>(
      this.dataSource,
      `INSERT INTO integration_events (tenant_id, event_name, payload, idempotency_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING ${STORED_COLUMNS}`,
      [tenantId, eventName, JSON.stringify(payload), idempotencyKey],
    );
    return rows[0] ?? null;
  }

  /** The tenant's event holding this Idempotency-Key, and whether its 24-hour window is over. */
  async findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<(StoredEvent & { expired: boolean }) | null> {
    const { rows } = await sql<StoredEvent & { expired: boolean }>(
      this.dataSource,
      `SELECT ${STORED_COLUMNS}, received_at < now() - interval '${IDEMPOTENCY_WINDOW}' AS expired
         FROM integration_events WHERE tenant_id = $1 AND idempotency_key = $2`,
      [tenantId, idempotencyKey],
    );
    return rows[0] ?? null;
  }

  /** Frees an expired Idempotency-Key from the event that held it. */
  async releaseIdempotencyKey(id: string): Promise<void> {
    await sql(this.dataSource, `UPDATE integration_events SET idempotency_key = NULL WHERE id = $1`, [id]);
  }

  /** The tenant's inbound events, filtered: a query for the cursor pagination to finish. */
  listQuery(tenantId: string, filters: { status?: IntegrationEventStatus; eventName?: string }): SelectQueryBuilder<IntegrationEvent> {
    const builder = this.dataSource.getRepository(IntegrationEvent).createQueryBuilder('e').where('e.tenantId = :tenantId', { tenantId });
    if (filters.status) builder.andWhere('e.status = :status', { status: filters.status });
    if (filters.eventName) builder.andWhere('e.eventName = :eventName', { eventName: filters.eventName });
    return builder;
  }

  find(tenantId: string, id: string): Promise<IntegrationEvent | null> {
    return this.dataSource.getRepository(IntegrationEvent).findOneBy({ id, tenantId });
  }

  /** Queues the tenant's event again, due now, and wakes the processors on commit. */
  async requeue(tenantId: string, id: string): Promise<void> {
    await sql(
      this.dataSource,
      `WITH updated AS (
         UPDATE integration_events SET status = 'received', next_attempt_at = now(), error_message = NULL, processed_at = NULL, result = NULL
          WHERE id = $1 AND tenant_id = $2 RETURNING id)
       SELECT pg_notify($3, '') FROM updated`,
      [id, tenantId, INBOUND_CHANNEL],
    );
  }

  /**
   * Claims up to `limit` due events — received ones, and processing ones whose lease ran out — oldest first,
   * skipping rows other instances hold; each claim counts an attempt and leases the row for `leaseSeconds`.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<ClaimedEvent[]> {
    const { rows } = await sql<ClaimedEvent>(
      this.dataSource,
      `WITH due AS (
         SELECT id FROM integration_events
          WHERE status IN ('received', 'processing') AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE integration_events e
          SET status = 'processing', attempts = e.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         FROM due WHERE e.id = due.id
       RETURNING e.id, e.tenant_id, e.event_name, e.payload, e.attempts, e.received_at`,
      [limit, leaseSeconds],
    );
    return rows;
  }

  /** The fence, in the processing transaction: locks the row if the claim is still ours (nobody re-claimed it since). */
  async lockIfStillClaimed(manager: EntityManager, event: ClaimedEvent): Promise<boolean> {
    const { rows } = await sql(manager, `SELECT 1 FROM integration_events WHERE id = $1 AND status = 'processing' AND attempts = $2 FOR UPDATE`, [
      event.id,
      event.attempts,
    ]);
    return rows.length > 0;
  }

  /** Marks a locked, claimed event done: processed with the handler's result, or ignored (no handler). */
  async markDone(manager: EntityManager, id: string, outcome: { status: 'processed'; result: Record<string, unknown> } | { status: 'ignored' }): Promise<void> {
    await sql(manager, `UPDATE integration_events SET status = $2, result = $3, processed_at = now(), error_message = NULL WHERE id = $1`, [
      id,
      outcome.status,
      outcome.status === 'processed' ? JSON.stringify(outcome.result) : null,
    ]);
  }

  /**
   * A failed attempt, fenced by its attempt number: 'received' again after `retryInSeconds`, or 'failed' for
   * good (processed_at set, so retention can prune it).
   */
  async recordFailure(event: ClaimedEvent, outcome: { status: 'received' | 'failed'; message: string; retryInSeconds: number }): Promise<void> {
    await sql(
      this.dataSource,
      `UPDATE integration_events
          SET status = $3, error_message = $4,
              next_attempt_at = CASE WHEN $3 = 'received' THEN now() + make_interval(secs => $5) ELSE next_attempt_at END,
              processed_at = CASE WHEN $3 = 'failed' THEN now() ELSE NULL END
        WHERE id = $1 AND attempts = $2 AND status = 'processing'`,
      [event.id, event.attempts, outcome.status, outcome.message, outcome.retryInSeconds],
    );
  }

  /** Makes claims due again at once (fenced by their attempt number: a row re-claimed since is left alone). */
  async handBack(claims: ReadonlyArray<readonly [id: string, attempts: number]>): Promise<void> {
    await sql(
      this.dataSource,
      `UPDATE integration_events e SET status = 'received', next_attempt_at = now()
         FROM unnest($1::uuid[], $2::int[]) AS r(id, attempts)
        WHERE e.id = r.id AND e.attempts = r.attempts AND e.status = 'processing'`,
      [claims.map(([id]) => id), claims.map(([, attempts]) => attempts)],
    );
  }

  /** Inbound events per status, over every tenant. */
  async countByStatus(): Promise<Array<{ status: IntegrationEventStatus; count: number }>> {
    const { rows } = await sql<{ status: IntegrationEventStatus; count: string }>(this.dataSource, `SELECT status, count(*) AS count FROM integration_events GROUP BY status`);
    return rows.map((row) => ({ status: row.status, count: Number(row.count) }));
  }

  /** Deletes up to `limit` finished events (processed, ignored, failed) older than `days`; how many. */
  async pruneFinished(runner: QueryRunner, days: number, limit: number): Promise<number> {
    const { count } = await sql(
      runner,
      `DELETE FROM integration_events WHERE id IN (
         SELECT id FROM integration_events
          WHERE status IN ('processed', 'ignored', 'failed') AND processed_at < now() - make_interval(days => $1)
          ORDER BY processed_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [days, limit],
    );
    return count;
  }
}
