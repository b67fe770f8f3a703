import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Contacts, deals, invoices and the domain-event outbox. */
export class CrmRecords1795897507594 implements MigrationInterface {
  name = 'CrmRecords1795897507594';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(`CREATE TABLE "domain_events" (
      "id" uuid NOT NULL,
      "tenant_id" uuid NOT NULL,
      "event_name" text NOT NULL,
      "payload" jsonb NOT NULL,
      "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "domain_events_pkey" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "domain_events_tenant_id_occurred_at_idx" ON "domain_events" ("tenant_id", "occurred_at")`);

    await queryRunner.query(`CREATE TABLE "contacts" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "first_name" text,
      "last_name" text,
      "email" text,
      "phone" text,
      "company" text,
      "source" text,
      "custom_fields" jsonb NOT NULL DEFAULT '{}',
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "contacts_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "contacts_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE)`);
    await queryRunner.query(`CREATE INDEX "contacts_tenant_id_created_at_id_idx" ON "contacts" ("tenant_id", "created_at", "id")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "contacts_tenant_id_email_lower_key" ON "contacts" ("tenant_id", lower("email"))`);
    // ?q= search: a substring match over names, email and company, served by a trigram index.
    await queryRunner.query(`CREATE INDEX "contacts_search_trgm_idx" ON "contacts" USING gin (
      lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(company, '')) gin_trgm_ops)`);

    await queryRunner.query(`CREATE TABLE "deals" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "title" text NOT NULL,
      "value" numeric(14,2) NOT NULL DEFAULT '0',
      "currency" character(3) NOT NULL DEFAULT 'USD',
      "stage" text NOT NULL DEFAULT 'lead',
      "contact_id" uuid,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "deals_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "deals_stage_check" CHECK ("stage" IN ('lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost')),
      CONSTRAINT "deals_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE,
      CONSTRAINT "deals_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "contacts"("id") ON DELETE SET NULL)`);
    await queryRunner.query(`CREATE INDEX "deals_tenant_id_created_at_id_idx" ON "deals" ("tenant_id", "created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "deals_contact_id_idx" ON "deals" ("contact_id")`);

    await queryRunner.query(`CREATE TABLE "invoices" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "tenant_id" uuid NOT NULL,
      "number" text NOT NULL,
      "amount" numeric(14,2) NOT NULL,
      "currency" character(3) NOT NULL DEFAULT 'USD',
      "status" text NOT NULL DEFAULT 'open',
      "contact_id" uuid,
      "external_id" text,
      "paid_at" TIMESTAMP WITH TIME ZONE,
      "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "invoices_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "invoices_status_check" CHECK ("status" IN ('open', 'paid', 'void')),
      CONSTRAINT "invoices_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE,
      CONSTRAINT "invoices_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "contacts"("id") ON DELETE SET NULL)`);
    await queryRunner.query(`CREATE INDEX "invoices_tenant_id_created_at_id_idx" ON "invoices" ("tenant_id", "created_at", "id")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "invoices_tenant_id_number_key" ON "invoices" ("tenant_id", "number")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "invoices_tenant_id_external_id_key" ON "invoices" ("tenant_id", "external_id")`);
    await queryRunner.query(`CREATE INDEX "invoices_contact_id_idx" ON "invoices" ("contact_id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "invoices"`);
    await queryRunner.query(`DROP TABLE "deals"`);
    await queryRunner.query(`DROP TABLE "contacts"`);
    await queryRunner.query(`DROP TABLE "domain_events"`);
  }
}
