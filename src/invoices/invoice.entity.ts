import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Contact } from '../contacts/contact.entity.js';
import { Tenant } from '../tenants/tenant.entity.js';

export const INVOICE_STATUSES = ['open', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

@Entity('invoices')
@Check('invoices_status_check', `"status" IN ('open', 'paid', 'void')`)
@Index('invoices_tenant_id_created_at_id_idx', ['tenantId', 'createdAt', 'id'])
@Index('invoices_tenant_id_external_id_key', ['tenantId', 'externalId'], { unique: true })
@Index('invoices_tenant_id_number_key', ['tenantId', 'number'], { unique: true })
@Index('invoices_contact_id_idx', ['contactId'])
export class Invoice {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'invoices_tenant_id_fkey' })
  tenant?: Tenant;

  @Column({ type: 'text' })
  number: string;

  /** numeric(14,2), read back as a string ("49.00"). */
  @Column({ type: 'numeric', precision: 14, scale: 2 })
  amount: string;

  @Column({ type: 'char', length: 3, default: 'USD' })
  currency: string;

  @Column({ type: 'text', default: 'open' })
  status: InvoiceStatus;

  @Column({ type: 'uuid', nullable: true })
  contactId: string | null;

  @ManyToOne(() => Contact, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'contact_id', foreignKeyConstraintName: 'invoices_contact_id_fkey' })
  contact?: Contact;

  /** The id in the system the invoice came from (a Stripe invoice id, say); unique per tenant. */
  @Column({ type: 'text', nullable: true })
  externalId: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  paidAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
