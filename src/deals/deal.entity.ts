import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Contact } from '../contacts/contact.entity.js';
import { Tenant } from '../tenants/tenant.entity.js';

export const DEAL_STAGES = ['lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost'] as const;
export type DealStage = (typeof DEAL_STAGES)[number];

@Entity('deals')
@Check('deals_stage_check', `"stage" IN ('lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost')`)
@Index('deals_tenant_id_created_at_id_idx', ['tenantId', 'createdAt', 'id'])
@Index('deals_contact_id_idx', ['contactId'])
export class Deal {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'deals_tenant_id_fkey' })
  tenant?: Tenant;

  @Column({ type: 'text' })
  title: string;

  /** numeric(14,2), read back as a string ("1200.00") so no precision is lost. */
  @Column({ type: 'numeric', precision: 14, scale: 2, default: 0 })
  value: string;

  @Column({ type: 'char', length: 3, default: 'USD' })
  currency: string;

  @Column({ type: 'text', default: 'lead' })
  stage: DealStage;

  @Column({ type: 'uuid', nullable: true })
  contactId: string | null;

  @ManyToOne(() => Contact, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'contact_id', foreignKeyConstraintName: 'deals_contact_id_fkey' })
  contact?: Contact;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
