import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes that keep the list routes' cost flat as the history grows (bench/scale.mjs):
 * - the deliveries of one subscription, newest first, with the id tie-break of the keyset cursor, so a deep
 *   page of `?subscription_id=` is an index range like the first one (it replaces (subscription_id, created_at));
 * - failed deliveries by tenant and by subscription, and failed or ignored inbound events by tenant: partial,
 *   so they hold only those rows (the ingest and delivery paths never write them until something fails) and
 *   `?status=failed` no longer reads the whole history when few or none match.
 * Inbound `?status=received|processing` is served by the claim index already (`?status=pending` of deliveries
 * by PendingDeliveryIndexes).
 * Built CONCURRENTLY (outside a transaction) so a large existing table keeps taking writes.
 */
export class ScaleIndexes1795930000000 implements MigrationInterface {
  name = 'ScaleIndexes1795930000000';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_deliveries_subscription_id_created_at_id_idx" ON "webhook_deliveries" ("subscription_id", "created_at", "id")`,
    );
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "webhook_deliveries_subscription_id_created_at_idx"`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_deliveries_failed_tenant_id_created_at_id_idx" ON "webhook_deliveries" ("tenant_id", "created_at", "id") WHERE "status" = 'failed'`,
    );
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_deliveries_failed_subscription_id_created_at_id_idx" ON "webhook_deliveries" ("subscription_id", "created_at", "id") WHERE "status" = 'failed'`,
    );
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "integration_events_unhandled_tenant_id_status_received_at_id_idx" ON "integration_events" ("tenant_id", "status", "received_at", "id") WHERE "status" IN ('failed', 'ignored')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "integration_events_unhandled_tenant_id_status_received_at_id_idx"`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "webhook_deliveries_failed_subscription_id_created_at_id_idx"`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "webhook_deliveries_failed_tenant_id_created_at_id_idx"`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_deliveries_subscription_id_created_at_idx" ON "webhook_deliveries" ("subscription_id", "created_at")`,
    );
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "webhook_deliveries_subscription_id_created_at_id_idx"`);
  }
}
