import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes the retention job walks, oldest first: finished deliveries by completion, finished inbound events
 * by processing time, domain events by time. Built CONCURRENTLY (outside a transaction) so a large existing
 * table keeps taking writes while they are built.
 */
export class Retention1795920000000 implements MigrationInterface {
  name = 'Retention1795920000000';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "webhook_deliveries_finished_idx" ON "webhook_deliveries" ("completed_at") WHERE "status" <> 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "integration_events_finished_idx" ON "integration_events" ("processed_at") WHERE "status" IN ('processed', 'ignored', 'failed')`,
    );
    await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS "domain_events_occurred_at_idx" ON "domain_events" ("occurred_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "domain_events_occurred_at_idx"`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "integration_events_finished_idx"`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "webhook_deliveries_finished_idx"`);
  }
}
