import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Tenant } from '../../tenants/tenant.entity.js';

export const INTEGRATION_EVENT_STATUSES = ['received', 'processing', 'processed', 'failed', 'ignored'] as const;
export type IntegrationEventStatus = (typeof INTEGRATION_EVENT_STATUSES)[number];

/**
 * An inbound webhook as received. While received or processing, next_attempt_at is when it is due and,
 * once claimed, the end of the processor's lease: a crashed instance's rows are taken over after it.
 */
@Entity('integration_events')
@Check('integration_events_status_check', `"status" IN ('received', 'processing', 'processed', 'failed', 'ignored')`)
@Index('integration_events_due_idx', { synchronize: false })
@Index('integration_events_idempotency_key', { synchronize: false })
@Index('integration_events_tenant_id_received_at_id_idx', ['tenantId', 'receivedAt', 'id'])
// Partial (WHERE status IN ('failed', 'ignored')), created by the ScaleIndexes migration.
@Index('integration_events_unhandled_tenant_id_status_received_at_id_idx', { synchronize: false })
export class IntegrationEvent {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'integration_events_tenant_id_fkey' })
  tenant?: Tenant;

  @Column({ type: 'text' })
  eventName: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, any>;

  @Column({ type: 'text', default: 'received' })
  status: IntegrationEventStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ type: 'jsonb', nullable: true })
  result: Record<string, any> | null;

  /** The sender's Idempotency-Key; a repeat within 24 hours returns this event instead of storing another. */
  @Column({ type: 'text', nullable: true })
  idempotencyKey: string | null;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  receivedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  processedAt: Date | null;
}
