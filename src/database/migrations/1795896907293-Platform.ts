import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants, users, access tokens (sessions and API tokens) and the failed-login counter. */
export class Platform1795896907293 implements MigrationInterface {
  name = 'Platform1795896907293';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "tenants" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "name" text NOT NULL,
      "webhook_api_key_hash" text,
      "webhook_api_key_prefix" text,
      "webhook_api_key_created_at" TIMESTAMP WITH TIME ZONE,
      "previous_webhook_api_key_hash" text,
      "previous_webhook_api_key_expires_at" TIMESTAMP WITH TIME ZONE,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "tenants_pkey" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "users" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "email" text NOT NULL,
      "name" text NOT NULL,
      "password_hash" text NOT NULL,
      "role" text NOT NULL,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "users_role_check" CHECK ("role" IN ('admin', 'member')),
      CONSTRAINT "users_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "users_email_lower_key" ON "users" (lower("email"))`);
    await queryRunner.query(`CREATE INDEX "users_tenant_id_created_at_id_idx" ON "users" ("tenant_id", "created_at", "id")`);
    await queryRunner.query(`CREATE TABLE "access_tokens" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "user_id" uuid NOT NULL,
      "kind" text NOT NULL,
      "name" text,
      "token_hash" text NOT NULL,
      "prefix" text NOT NULL,
      "expires_at" TIMESTAMP WITH TIME ZONE,
      "last_used_at" TIMESTAMP WITH TIME ZONE,
      "revoked_at" TIMESTAMP WITH TIME ZONE,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "access_tokens_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "access_tokens_kind_check" CHECK ("kind" IN ('session', 'api')),
      CONSTRAINT "access_tokens_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE,
      CONSTRAINT "access_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "access_tokens_token_hash_key" ON "access_tokens" ("token_hash")`);
    await queryRunner.query(`CREATE INDEX "access_tokens_user_id_kind_idx" ON "access_tokens" ("user_id", "kind")`);
    await queryRunner.query(`CREATE TABLE "login_attempts" (
      "key" text NOT NULL,
      "failures" integer NOT NULL,
      "window_started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "locked_until" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "login_attempts_pkey" PRIMARY KEY ("key"))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "login_attempts"`);
    await queryRunner.query(`DROP TABLE "access_tokens"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP TABLE "tenants"`);
  }
}
