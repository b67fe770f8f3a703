import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Outbound webhooks: subscriptions, the delivery queue (outbox fan-out) and the attempt log. */
export class Webhooks1795898000000 implements MigrationInterface {
  name = 'Webhooks1795898000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "webhook_subscriptions" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "event_name" text NOT NULL,
      "target_url" text NOT NULL,
      "description" text,
      "enabled" boolean NOT NULL DEFAULT true,
      "headers_encrypted" text,
      "secret_encrypted" text NOT NULL,
      "previous_secret_encrypted" text,
      "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE,
      "disabled_reason" text,
      "disabled_at" TIMESTAMP WITH TIME ZONE,
      "failing_since" TIMESTAMP WITH TIME ZONE,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "webhook_subscriptions_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "webhook_subscriptions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE)`);
    // Also serves the fan-out lookup: tenant_id = $1 AND event_name = ANY($2).
    await queryRunner.query(
      `CREATE UNIQUE INDEX "webhook_subscriptions_tenant_id_event_name_target_url_key" ON "webhook_subscriptions" ("tenant_id", "event_name", "target_url")`,
    );
    await queryRunner.query(`CREATE INDEX "webhook_subscriptions_tenant_id_created_at_id_idx" ON "webhook_subscriptions" ("tenant_id", "created_at", "id")`);

    await queryRunner.query(`CREATE TABLE "webhook_deliveries" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "subscription_id" uuid NOT NULL,
      "event_id" uuid NOT NULL,
      "event_name" text NOT NULL,
      "status" text NOT NULL DEFAULT 'pending',
      "attempts" integer NOT NULL DEFAULT 0,
      "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "last_status_code" integer,
      "last_error" text,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "completed_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "webhook_deliveries_status_check" CHECK ("status" IN ('pending', 'succeeded', 'failed')),
      CONSTRAINT "webhook_deliveries_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE,
      CONSTRAINT "webhook_deliveries_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscriptions"("id") ON DELETE CASCADE,
      CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "domain_events"("id") ON DELETE CASCADE)`);
    // The worker's claim: pending rows by due time (a small partial index, whatever the history's size).
    await queryRunner.query(`CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'pending'`);
    await queryRunner.query(`CREATE INDEX "webhook_deliveries_tenant_id_created_at_id_idx" ON "webhook_deliveries" ("tenant_id", "created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "webhook_deliveries_subscription_id_created_at_idx" ON "webhook_deliveries" ("subscription_id", "created_at")`);
    await queryRunner.query(`CREATE INDEX "webhook_deliveries_event_id_idx" ON "webhook_deliveries" ("event_id")`);

    await queryRunner.query(`CREATE TABLE "webhook_delivery_attempts" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "delivery_id" uuid NOT NULL,
      "attempted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "status_code" integer,
      "duration_ms" integer NOT NULL,
      "error_code" text,
      "error_message" text,
      "response_excerpt" text,
      CONSTRAINT "webhook_delivery_attempts_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "webhook_delivery_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE)`);
    await queryRunner.query(
      `CREATE INDEX "webhook_delivery_attempts_delivery_id_attempted_at_idx" ON "webhook_delivery_attempts" ("delivery_id", "attempted_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "webhook_delivery_attempts"`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "webhook_subscriptions"`);
  }
}
