import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pending deliveries by tenant and by subscription, newest first with the keyset cursor's id tie-break:
 * partial, like the failed ones (ScaleIndexes), so `?status=pending` reads one page of index entries however
 * long the history. Without them it walked the tenant's whole-history index and filtered: at 100k contacts
 * (1M deliveries, 0.5 % pending) about 12,000 entries per page, 2.4× the 10k figure (bench/scale.mjs). Each
 * delivery enters them once, when it is created; a finished one leaves them.
 * Built CONCURRENTLY (outside a transaction) so a large existing table keeps taking writes.
 */
export class PendingDeliveryIndexes1795940000000 implements MigrationInterface {
  name = 'PendingDeliveryIndexes1795940000000';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_deliveries_pending_tenant_id_created_at_id_idx" ON "webhook_deliveries" ("tenant_id", "created_at", "id") WHERE "status" = 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_deliveries_pending_subscription_id_created_at_id_idx" ON "webhook_deliveries" ("subscription_id", "created_at", "id") WHERE "status" = 'pending'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "webhook_deliveries_pending_subscription_id_created_at_id_idx"`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "webhook_deliveries_pending_tenant_id_created_at_id_idx"`);
  }
}
