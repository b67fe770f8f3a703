import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type QueryRunner, type SelectQueryBuilder } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { GroupCommit } from '../../database/group-commit.js';
import { sql } from '../../database/sql.js';
import { INTEGRATION_EVENT_STATUSES, IntegrationEvent, type IntegrationEventStatus } from './integration-event.entity.js';

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

/** An inbound event as a processing transaction holds it (claimed: row-locked, status 'processing'). */
export interface ClaimedEvent {
  id: string;
  tenant_id: string;
  event_name: string;
  payload: Record<string, unknown>;
  /** Attempts including the one under way. */
  attempts: number;
  received_at: Date;
}

/** What processing made of one event. */
export type EventOutcome =
  | { id: string; status: 'processed'; result: Record<string, unknown> }
  | { id: string; status: 'ignored' }
  | { id: string; status: 'received'; message: string; retryInSeconds: number }
  | { id: string; status: 'failed'; message: string };

interface NewEvent {
  id: string;
  tenant_id: string;
  event_name: string;
  payload: Record<string, unknown>;
  idempotency_key: string | null;
}

/**
 * Above this many rows (the planner's own estimate) the finished inbound statuses are estimated instead of
 * counted: a count(*) of every processed event would read the whole table on every /api/metrics scrape.
 */
export const EXACT_COUNT_MAX_ROWS = 50_000;

const STORED_COLUMNS = 'id, tenant_id, event_name, payload, status, received_at';

/** The claim (see claimDue): $1 limit. Exported for bench/scale.mjs's EXPLAIN. */
export const CLAIM_DUE_SQL = `WITH due AS (
         SELECT id FROM integration_events
          WHERE status IN ('received', 'processing') AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE integration_events e
          SET status = 'processing', attempts = e.attempts + 1
         FROM due WHERE e.id = due.id
       RETURNING e.id, e.tenant_id, e.event_name, e.payload, e.attempts, e.received_at`;

/**
 * The one owner of `integration_events`: every statement on it is here — the insert with its Idempotency-Key,
 * the processors' claim and outcomes, retries, the log, the gauge and the retention delete.
 */
@Injectable()
export class IntegrationEventRepository {
  /** Inserts that arrive together share one multi-row INSERT (see GroupCommit). */
  private readonly inserts = new GroupCommit<NewEvent, StoredEvent | null>((batch) => this.insertMany(batch), { maxBatch: 500, maxInFlight: 2 });

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores one event, answering once its row is committed; null when the tenant already has an event with
   * this Idempotency-Key.
   */
  insert(tenantId: string, eventName: string, payload: Record<string, unknown>, idempotencyKey: string | null): Promise<StoredEvent | null> {
    return this.inserts.submit({ id: randomUUID(), tenant_id: tenantId, event_name: eventName, payload, idempotency_key: idempotencyKey });
  }

  /**
   * One autocommitted INSERT for the batch, its rows sent as one JSON array; a row that collides with an
   * Idempotency-Key is left out (null). Only what the database decides comes back (the payload stays here).
   */
  private async insertMany(batch: NewEvent[]): Promise<Array<StoredEvent | null>> {
    const { rows } = await sql<Pick<StoredEvent, 'id' | 'status' | 'received_at'>>(
      this.dataSource,
      `INSERT INTO integration_events (id, tenant_id, event_name, payload, idempotency_key)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS (id uuid, tenant_id uuid, event_name text, payload jsonb, idempotency_key text)
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id, status, received_at`,
      [JSON.stringify(batch)],
      { prepare: true },
    );
    const stored = new Map(rows.map((row) => [row.id, row]));
    return batch.map((event) => {
      const row = stored.get(event.id);
      return row ? { id: event.id, tenant_id: event.tenant_id, event_name: event.event_name, payload: event.payload, status: row.status, received_at: row.received_at } : null;
    });
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
   * Claims up to `limit` due events for the caller's transaction — received ones (and 'processing' ones whose
   * lease ran out, left by an instance of an earlier version) — oldest first, skipping rows other transactions
   * hold. Each claim counts an attempt; the row locks keep the events the transaction's until it ends, and a
   * rollback gives them back untouched.
   */
  async claimDue(manager: EntityManager, limit: number): Promise<ClaimedEvent[]> {
    const { rows } = await sql<ClaimedEvent>(
      manager,
      CLAIM_DUE_SQL,
      [limit],
    );
    return rows;
  }

  /**
   * The outcomes of a batch, in the transaction that claimed it, in one statement: processed (with the
   * handler's result) or ignored; 'received' again after `retryInSeconds`; or failed for good. processed_at is
   * set on the final ones, so retention can prune them.
   */
  async recordOutcomes(manager: EntityManager, outcomes: EventOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await sql(
      manager,
      `UPDATE integration_events e SET
          status = o.status,
          result = o.result,
          error_message = o.message,
          next_attempt_at = CASE WHEN o.status = 'received' THEN now() + make_interval(secs => o.retry_in) ELSE e.next_attempt_at END,
          processed_at = CASE WHEN o.status = 'received' THEN NULL ELSE now() END
         FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::int[]) AS o(id, status, result, message, retry_in)
        WHERE e.id = o.id`,
      [
        outcomes.map((o) => o.id),
        outcomes.map((o) => o.status),
        outcomes.map((o) => (o.status === 'processed' ? JSON.stringify(o.result) : null)),
        outcomes.map((o) => (o.status === 'received' || o.status === 'failed' ? o.message : null)),
        outcomes.map((o) => (o.status === 'received' ? o.retryInSeconds : 0)),
      ],
      { prepare: true },
    );
  }

  /**
   * Inbound events per status, over every tenant, at a cost that does not grow with the history: received
   * and processing (the backlog) counted exactly through integration_events_due_idx; processed, failed and
   * ignored counted exactly only while the table holds under EXACT_COUNT_MAX_ROWS rows, and otherwise
   * estimated from the statistics ANALYZE keeps (pg_stats' most common values and their frequencies, times
   * the row count the planner would assume now: reltuples scaled to the table's current size).
   */
  async countByStatus(): Promise<Map<IntegrationEventStatus, number>> {
    const counts = new Map<IntegrationEventStatus, number>(INTEGRATION_EVENT_STATUSES.map((status) => [status, 0]));
    const { rows: size } = await sql<{ rows: number | null }>(
      this.dataSource,
      `SELECT CASE WHEN c.reltuples < 0 OR c.relpages = 0 THEN NULL
                   ELSE c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int) END AS rows
         FROM pg_class c WHERE c.oid = 'integration_events'::regclass`,
    );
    const estimatedRows = size[0]?.rows === null || size[0]?.rows === undefined ? null : Number(size[0].rows);
    const exact = estimatedRows === null || estimatedRows < EXACT_COUNT_MAX_ROWS;
    const { rows: counted } = await sql<{ status: IntegrationEventStatus; count: string }>(
      this.dataSource,
      `SELECT status, count(*) AS count FROM integration_events ${exact ? '' : `WHERE status IN ('received', 'processing')`} GROUP BY status`,
    );
    for (const row of counted) counts.set(row.status, Number(row.count));
    if (exact) return counts;
    const { rows: frequencies } = await sql<{ status: IntegrationEventStatus; frequency: number }>(
      this.dataSource,
      `SELECT v.status, v.frequency
         FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS v(status, frequency)
        WHERE s.schemaname = (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'integration_events'::regclass)
          AND s.tablename = 'integration_events' AND s.attname = 'status'`,
    );
    for (const { status, frequency } of frequencies) {
      if (status !== 'received' && status !== 'processing') counts.set(status, Math.round(Number(frequency) * estimatedRows!));
    }
    return counts;
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
