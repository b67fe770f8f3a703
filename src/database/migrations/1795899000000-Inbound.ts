import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Inbound webhooks: integration_events, with the processor's claim index and idempotency keys. */
export class Inbound1795899000000 implements MigrationInterface {
  name = 'Inbound1795899000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "integration_events" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "event_name" text NOT NULL,
      "payload" jsonb NOT NULL,
      "status" text NOT NULL DEFAULT 'received',
      "attempts" integer NOT NULL DEFAULT 0,
      "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "error_message" text,
      "result" jsonb,
      "idempotency_key" text,
      "received_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "processed_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "integration_events_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "integration_events_status_check" CHECK ("status" IN ('received', 'processing', 'processed', 'failed', 'ignored')),
      CONSTRAINT "integration_events_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE)`);
    // The processor's claim: rows waiting or whose lease ran out, by due time.
    await queryRunner.query(
      `CREATE INDEX "integration_events_due_idx" ON "integration_events" ("next_attempt_at") WHERE "status" IN ('received', 'processing')`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "integration_events_idempotency_key" ON "integration_events" ("tenant_id", "idempotency_key") WHERE "idempotency_key" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "integration_events_tenant_id_received_at_id_idx" ON "integration_events" ("tenant_id", "received_at", "id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "integration_events"`);
  }
}
