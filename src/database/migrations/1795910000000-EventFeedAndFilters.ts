import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event feed's position and subscription filters.
 *
 * domain_events gains `txid` (the writing transaction's 64-bit id, xid8) and `seq` (insertion order): the
 * feed orders by (txid, seq) and only shows events whose transaction is older than the oldest one still
 * running, so an event whose transaction commits late still sorts after every cursor handed out before it
 * became visible. Existing rows get this migration's txid and a seq in occurred_at order.
 *
 * webhook_subscriptions gains `filter` (jsonb, matched with @> against the delivery body at fan-out).
 */
export class EventFeedAndFilters1795910000000 implements MigrationInterface {
  name = 'EventFeedAndFilters1795910000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "domain_events" ADD COLUMN "txid" xid8, ADD COLUMN "seq" bigint`);
    await queryRunner.query(`CREATE SEQUENCE "domain_events_seq_seq" OWNED BY "domain_events"."seq"`);
    await queryRunner.query(
      `UPDATE "domain_events" e SET "txid" = pg_current_xact_id(), "seq" = o.n
         FROM (SELECT id, row_number() OVER (ORDER BY occurred_at, id) AS n FROM "domain_events") o WHERE o.id = e.id`,
    );
    await queryRunner.query(`SELECT setval('domain_events_seq_seq', coalesce(max("seq"), 0) + 1, false) FROM "domain_events"`);
    await queryRunner.query(`ALTER TABLE "domain_events"
      ALTER COLUMN "txid" SET DEFAULT pg_current_xact_id(), ALTER COLUMN "txid" SET NOT NULL,
      ALTER COLUMN "seq" SET DEFAULT nextval('domain_events_seq_seq'), ALTER COLUMN "seq" SET NOT NULL`);
    await queryRunner.query(`CREATE INDEX "domain_events_tenant_id_txid_seq_idx" ON "domain_events" ("tenant_id", "txid", "seq")`);

    await queryRunner.query(`ALTER TABLE "webhook_subscriptions" ADD COLUMN "filter" jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook_subscriptions" DROP COLUMN "filter"`);
    await queryRunner.query(`DROP INDEX "domain_events_tenant_id_txid_seq_idx"`);
    await queryRunner.query(`ALTER TABLE "domain_events" DROP COLUMN "seq", DROP COLUMN "txid"`);
  }
}
