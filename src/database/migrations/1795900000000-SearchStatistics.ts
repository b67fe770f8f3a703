import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finer statistics for the contact search expression: with the default sample the planner can take a
 * common ?q= term for a rare one and pick the trigram index plus a sort of every match, instead of the
 * keyset scan that stops after one page.
 */
export class SearchStatistics1795900000000 implements MigrationInterface {
  name = 'SearchStatistics1795900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER INDEX "contacts_search_trgm_idx" ALTER COLUMN 1 SET STATISTICS 1000`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER INDEX "contacts_search_trgm_idx" ALTER COLUMN 1 SET STATISTICS -1`);
  }
}
