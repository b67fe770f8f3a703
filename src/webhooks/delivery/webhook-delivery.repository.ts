import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import { DataSource, type EntityManager, type QueryRunner, type SelectQueryBuilder } from 'typeorm';
import { dedicatedPool } from '../../database/dedicated-pool.js';
import { sql, type SqlParams } from '../../database/sql.js';
import type { OutboxPart } from '../../events/domain-event-publisher.js';
import type { EventName } from '../../events/event-catalog.js';
import { subscriptionKeysFor } from '../../events/event-patterns.js';
import { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity.js';
import { CLAIMED_COLUMNS, toClaimed, type ClaimedDelivery, type ClaimedRow, type ClaimLimits, type DeliveryOutcomeRow } from './delivery-rows.js';
import { WebhookDelivery, type DeliveryStatus } from './webhook-delivery.entity.js';

/** The channel a commit that created or re-queued deliveries notifies (PostgreSQL delivers NOTIFY only on commit). */
export const DELIVERIES_CHANNEL = 'junction_webhook_deliveries';


/**
 * The claim (see claimDue): $1 limit, $2 saturated subscriptions, $3 lease seconds, $4 per-subscription share,
 * $5/$6 the subscriptions this instance holds deliveries of and how many. Exported for bench/scale.mjs's EXPLAIN.
 *
 * Its cost is bounded by the candidates' walk, whatever the planner believes. `due` takes the ranked
 * candidates in order and locks each by primary key (a LATERAL subquery with FOR UPDATE is never flattened,
 * so this is always that nested loop). It stops once the limit is leased. The lock re-checks the row against
 * what the walk read: status, attempts and next_attempt_at, which a lease, an outcome, a hand-back and a
 * resend each change. It does not compare with constants. Columns of a materialized CTE carry no constant
 * across, so no partial index is usable there.
 *
 * The check used to be `d.status = 'pending' AND d.next_attempt_at <= now()` on a join. Statistics taken while
 * nothing was pending (a mature table, then a burst of deliveries) made the due index look empty. PostgreSQL
 * then walked all of it and probed the ranked candidates at each row: 50–56 s for one claim among 200,000 due
 * rows with 8 of 10 subscriptions saturated, against 5 ms now (test/webhook-claim-plan.e2e-spec.ts).
 *
 * The walk itself must be the due index read in order and stopped at its limit, and only CLAIM_SESSION_SETTINGS
 * make sure of that (the claim runs on a connection of its own that has them, as a prepared statement).
 */
export const CLAIM_DUE_SQL = `WITH candidates AS MATERIALIZED (
         SELECT id, subscription_id, status, attempts, next_attempt_at FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now() AND subscription_id <> ALL($2::uuid[])
          ORDER BY next_attempt_at
          LIMIT $1 * 10),
       ranked AS (
         SELECT c.id, c.status, c.attempts, c.next_attempt_at,
                row_number() OVER (PARTITION BY c.subscription_id ORDER BY c.next_attempt_at) AS rank,
                $4::int - coalesce(b.in_flight, 0) AS free
           FROM candidates c LEFT JOIN unnest($5::uuid[], $6::int[]) AS b(subscription_id, in_flight) USING (subscription_id)),
       due AS (
         SELECT locked.id
           FROM (SELECT id, status, attempts, next_attempt_at FROM ranked WHERE rank <= free ORDER BY next_attempt_at) r
          CROSS JOIN LATERAL (
                SELECT d.id FROM webhook_deliveries d
                 WHERE d.id = r.id AND d.status = r.status AND d.attempts = r.attempts AND d.next_attempt_at = r.next_attempt_at
                 FOR UPDATE SKIP LOCKED) locked
          ORDER BY r.next_attempt_at
          LIMIT $1)
       UPDATE webhook_deliveries d
          SET next_attempt_at = now() + make_interval(secs => $3), attempts = d.attempts + 1
         FROM due, webhook_subscriptions s, domain_events e
        WHERE d.id = due.id AND s.id = d.subscription_id AND e.id = d.event_id
       RETURNING ${CLAIMED_COLUMNS}`;

/**
 * The claim connection's planner settings. When the statistics hold fewer due rows than the candidates' walk
 * takes (a table not analyzed since a burst arrived: a new install's first burst, or any after a quiet spell),
 * PostgreSQL reads every due row through a bitmap scan and sorts them all to keep the first ones. Each claim then
 * costs in proportion to the backlog: 9.6 ms at 26,000 due rows, and 1,572–1,713 deliveries/s instead of
 * 2,209–2,453 for a backlog of 30,000 (bench/README.md, the twelfth session). Without bitmap and sequential
 * scans, the ordered walk of the due index is the only way left to read the candidates, at any estimate.
 *
 * With the walk the only plan, planning it anew for each claim is waste: the claim is a named prepared statement
 * with one generic plan per connection (`force_generic_plan`), built once. Parsing and planning were a third of
 * the claim's time in PostgreSQL (0.4 and 0.7 ms for a statement that ran in 2.4 ms; bench/README.md, the
 * thirteenth session). A generic plan cannot know the `LIMIT` and guesses a tenth of the due rows, so for a large
 * backlog it would weigh a sequential scan and a sort of all of it against the walk; with sequential scans off it
 * cannot take them. These settings are the claim's alone (the trigram search needs bitmap scans), hence a
 * connection of its own rather than server settings.
 */
export const CLAIM_SESSION_SETTINGS: Record<string, string> = { enable_bitmapscan: 'off', enable_seqscan: 'off', plan_cache_mode: 'force_generic_plan' };

/**
 * One claim (CLAIM_DUE_SQL and its parameters) on a connection that has CLAIM_SESSION_SETTINGS, as a named
 * prepared statement: each connection plans it once. Exported for test/webhook-claim-plan.e2e-spec.ts.
 */
export async function claimOn(pool: pg.Pool, params: unknown[]): Promise<ClaimedRow[]> {
  const { rows } = await sql<ClaimedRow>(pool, CLAIM_DUE_SQL, params, { prepare: true });
  return rows;
}

/**
 * The one owner of `webhook_deliveries` and `webhook_delivery_attempts`: every statement that reads or writes
 * them is here, so the lease protocol (status 'pending' + next_attempt_at as both due time and lease end,
 * attempts counting the attempt under way) is reviewed in one place.
 */
@Injectable()
export class WebhookDeliveryRepository implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryRepository.name);
  /** The claims' own connection (CLAIM_SESSION_SETTINGS), opened by the first claim: an API-only instance has none. */
  private claimPool: pg.Pool | null = null;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    const pool = this.claimPool;
    this.claimPool = null;
    await pool?.end();
  }

  /**
   * The transactional fan-out, as a part of the statement that records the events (an OutboxStep's part):
   * for each event of `published`, one row per enabled subscription of its tenant whose event_name is one of
   * the event's keys (its name, its prefix pattern, `*`) and whose filter (if any) its body contains, and a
   * NOTIFY that wakes every instance's worker once the transaction commits. Null for names no subscription
   * can receive (webhook.test).
   */
  fanOutPart(names: Iterable<EventName>, params: SqlParams): OutboxPart | null {
    const keys = [...names].flatMap((name) => subscriptionKeysFor(name).map((key) => [name, key] as const));
    if (keys.length === 0) return null;
    return {
      ctes: `fanned_out AS (
         INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name)
         SELECT s.tenant_id, s.id, e.id, e.event_name
           FROM published e
           JOIN unnest(${params.bind(keys.map(([name]) => name))}::text[], ${params.bind(keys.map(([, key]) => key))}::text[]) AS k(event_name, subscription_key)
             ON k.event_name = e.event_name
           JOIN webhook_subscriptions s ON s.tenant_id = e.tenant_id AND s.enabled AND s.event_name = k.subscription_key
          WHERE s.filter IS NULL OR e.payload @> s.filter
         RETURNING 1)`,
      select: `(SELECT pg_notify(${params.bind(DELIVERIES_CHANNEL)}, '') FROM (SELECT count(*) AS n FROM fanned_out) c WHERE c.n > 0) AS fanned_out`,
    };
  }

  /**
   * Claims up to `limit` due deliveries, oldest first, skipping rows other instances hold and taking no more
   * per subscription than it has room for. A full subscription's rows are not even looked at, so a backlog
   * behind a slow endpoint never hides other subscriptions' rows. The lease: next_attempt_at pushed forward.
   */
  async claimDue({ limit, leaseSeconds, perSubscription, held }: ClaimLimits): Promise<ClaimedDelivery[]> {
    const busy = [...held];
    const saturated = busy.filter(([, n]) => n >= perSubscription).map(([id]) => id);
    this.claimPool ??= dedicatedPool(this.dataSource, { applicationName: 'junction-crm-claims', settings: CLAIM_SESSION_SETTINGS, logger: this.logger });
    const rows = await claimOn(this.claimPool, [limit, saturated, leaseSeconds, perSubscription, busy.map(([id]) => id), busy.map(([, n]) => n)]);
    return rows.map(toClaimed);
  }

  /** A delivery already leased by its creator (the test send), read the way a claim returns it. */
  async leased(id: string): Promise<ClaimedDelivery> {
    const { rows } = await sql<ClaimedRow>(
      this.dataSource,
      `SELECT ${CLAIMED_COLUMNS} FROM webhook_deliveries d
         JOIN webhook_subscriptions s ON s.id = d.subscription_id JOIN domain_events e ON e.id = d.event_id
        WHERE d.id = $1`,
      [id],
    );
    if (!rows[0]) throw new Error(`Delivery ${id} vanished before it was sent`);
    return toClaimed(rows[0]);
  }

  /** Claimed but never started (shutdown): due again now, and the claim's attempt not counted. */
  async handBack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql(this.dataSource, `UPDATE webhook_deliveries SET next_attempt_at = now(), attempts = attempts - 1 WHERE id = ANY($1::uuid[])`, [ids]);
  }

  /**
   * A row for a one-off send, leased from the start (attempts 1, due only after `leaseSeconds`), so that no
   * worker sends it a second time.
   */
  async insertLeased(
    manager: EntityManager,
    row: { tenantId: string; subscriptionId: string; eventId: string; eventName: string; leaseSeconds: number },
  ): Promise<string> {
    const { rows } = await sql<{ id: string }>(
      manager,
      `INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, event_name, attempts, next_attempt_at)
       VALUES ($1, $2, $3, $4, 1, now() + make_interval(secs => $5)) RETURNING id`,
      [row.tenantId, row.subscriptionId, row.eventId, row.eventName, row.leaseSeconds],
    );
    return rows[0].id;
  }

  /**
   * A batch of attempt outcomes in ONE statement (data-modifying CTEs, atomic like a transaction): the
   * delivery rows, the attempt log, and the subscriptions' failure clock (`failing_since`, the delivery
   * side's own column of webhook_subscriptions: set by the first failure, cleared by a success) in a single
   * round trip, which bounds how long an outcome waits when the database is busy.
   */
  async writeOutcomes(pool: pg.Pool, batch: DeliveryOutcomeRow[]): Promise<void> {
    const succeeded = [...new Set(batch.filter((o) => o.succeeded).map((o) => o.subscriptionId))];
    const failed = [...new Set(batch.filter((o) => !o.succeeded).map((o) => o.subscriptionId))].filter((id) => !succeeded.includes(id));
    await sql(
      pool,
      `WITH deliveries AS (
         UPDATE webhook_deliveries d SET
            status = v.status,
            next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at),
            last_status_code = v.status_code,
            last_error = v.error,
            completed_at = CASE WHEN v.status = 'pending' THEN NULL ELSE now() END
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::text[]) AS v(id, status, next_attempt_at, status_code, error)
          WHERE d.id = v.id
         RETURNING d.id),
       attempts AS (
         INSERT INTO webhook_delivery_attempts (id, delivery_id, attempted_at, status_code, duration_ms, error_code, error_message, response_excerpt)
         SELECT * FROM unnest($6::uuid[], $1::uuid[], $7::timestamptz[], $4::int[], $8::int[], $9::text[], $10::text[], $11::text[])
         ON CONFLICT (id) DO NOTHING
         RETURNING id),
       recovered AS (
         UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = ANY($12::uuid[]) AND failing_since IS NOT NULL RETURNING id),
       failing AS (
         UPDATE webhook_subscriptions SET failing_since = now() WHERE id = ANY($13::uuid[]) AND failing_since IS NULL RETURNING id)
       SELECT (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM attempts) AS attempts,
              (SELECT count(*) FROM recovered) AS recovered, (SELECT count(*) FROM failing) AS failing`,
      [
        batch.map((o) => o.deliveryId),
        batch.map((o) => o.status),
        batch.map((o) => o.nextAttemptAt),
        batch.map((o) => o.statusCode),
        batch.map((o) => (o.errorCode ? `${o.errorCode}: ${o.errorMessage}` : o.errorMessage)),
        batch.map((o) => o.attemptId),
        batch.map((o) => o.attemptedAt),
        batch.map((o) => o.durationMs),
        batch.map((o) => o.errorCode),
        batch.map((o) => o.errorMessage),
        batch.map((o) => o.responseExcerpt),
        succeeded,
        failed,
      ],
      { prepare: true },
    );
  }

  /** A disabled subscription's pending deliveries fail, with why (in the transaction that disables it). */
  async failPending(manager: EntityManager, subscriptionId: string, reason: string): Promise<void> {
    await sql(manager, `UPDATE webhook_deliveries SET status = 'failed', last_error = $2, completed_at = now() WHERE subscription_id = $1 AND status = 'pending'`, [
      subscriptionId,
      reason,
    ]);
  }

  /** Puts one of the tenant's deliveries back in the queue, due now, whatever its status; null when there is none. */
  async requeue(tenantId: string, id: string): Promise<WebhookDelivery | null> {
    // One transaction: the updated row stays locked until it is read back, so a concurrent delete of the
    // subscription (and its deliveries) makes this a null, never a half-read row.
    return this.dataSource.transaction(async (manager) => {
      const { count } = await sql(
        manager,
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), completed_at = NULL WHERE id = $1 AND tenant_id = $2`,
        [id, tenantId],
      );
      if (count === 0) return null;
      await this.notify(manager);
      return manager.getRepository(WebhookDelivery).findOneByOrFail({ id });
    });
  }

  /** Re-queues every failed delivery of the tenant's subscription created since `since`; how many. */
  async requeueFailed(tenantId: string, subscriptionId: string, since: Date): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const { count } = await sql(
        manager,
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), completed_at = NULL
          WHERE subscription_id = $1 AND tenant_id = $2 AND status = 'failed' AND created_at >= $3`,
        [subscriptionId, tenantId, since],
      );
      if (count > 0) await this.notify(manager);
      return count;
    });
  }

  /** The tenant's delivery log, filtered: a query for the cursor pagination to finish. */
  listQuery(tenantId: string, filters: { subscriptionId?: string; status?: DeliveryStatus; eventName?: string }): SelectQueryBuilder<WebhookDelivery> {
    const builder = this.dataSource.getRepository(WebhookDelivery).createQueryBuilder('d').where('d.tenantId = :tenantId', { tenantId });
    if (filters.subscriptionId) builder.andWhere('d.subscriptionId = :subscriptionId', { subscriptionId: filters.subscriptionId });
    if (filters.status) builder.andWhere('d.status = :status', { status: filters.status });
    if (filters.eventName) builder.andWhere('d.eventName = :eventName', { eventName: filters.eventName });
    return builder;
  }

  /** One of the tenant's deliveries with its event and its attempts (oldest first), or null. */
  async findWithAttempts(tenantId: string, id: string): Promise<{ delivery: WebhookDelivery; attempts: WebhookDeliveryAttempt[] } | null> {
    const delivery = await this.dataSource.getRepository(WebhookDelivery).findOne({ where: { id, tenantId }, relations: { event: true } });
    if (!delivery) return null;
    const attempts = await this.dataSource.getRepository(WebhookDeliveryAttempt).find({ where: { deliveryId: id }, order: { attemptedAt: 'ASC' } });
    return { delivery, attempts };
  }

  /** Pending deliveries: all of them, and those due now (the queue depth). */
  async countPending(): Promise<{ pending: number; due: number }> {
    const { rows } = await sql<{ pending: string; due: string }>(
      this.dataSource,
      `SELECT count(*) AS pending, count(*) FILTER (WHERE next_attempt_at <= now()) AS due FROM webhook_deliveries WHERE status = 'pending'`,
    );
    return { pending: Number(rows[0].pending), due: Number(rows[0].due) };
  }

  /** Deletes up to `limit` finished deliveries completed more than `days` ago (their attempts go with them); how many. */
  async pruneFinished(runner: QueryRunner, days: number, limit: number): Promise<number> {
    const { count } = await sql(
      runner,
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries
          WHERE status <> 'pending' AND completed_at < now() - make_interval(days => $1)
          ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [days, limit],
    );
    return count;
  }

  /** Wakes every instance's worker once the surrounding transaction (if any) commits. */
  async notify(db: EntityManager | DataSource = this.dataSource): Promise<void> {
    await sql(db, `SELECT pg_notify($1, '')`, [DELIVERIES_CHANNEL]);
  }
}
