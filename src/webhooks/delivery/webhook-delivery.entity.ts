import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DomainEventRecord } from '../../events/domain-event.entity.js';
import { Tenant } from '../../tenants/tenant.entity.js';
import { WebhookSubscription } from '../subscriptions/webhook-subscription.entity.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event to one subscription. While pending, next_attempt_at is both when it is due and, once a worker
 * has claimed it, the end of that worker's lease: a crashed worker's rows fall due again by themselves.
 */
@Entity('webhook_deliveries')
@Check('webhook_deliveries_status_check', `"status" IN ('pending', 'succeeded', 'failed')`)
@Index('webhook_deliveries_due_idx', { synchronize: false })
@Index('webhook_deliveries_tenant_id_created_at_id_idx', ['tenantId', 'createdAt', 'id'])
@Index('webhook_deliveries_subscription_id_created_at_id_idx', ['subscriptionId', 'createdAt', 'id'])
// Partial (WHERE status = 'failed'), created by the ScaleIndexes migration.
@Index('webhook_deliveries_failed_tenant_id_created_at_id_idx', { synchronize: false })
@Index('webhook_deliveries_failed_subscription_id_created_at_id_idx', { synchronize: false })
// Partial (WHERE status = 'pending'), created by the PendingDeliveryIndexes migration.
@Index('webhook_deliveries_pending_tenant_id_created_at_id_idx', { synchronize: false })
@Index('webhook_deliveries_pending_subscription_id_created_at_id_idx', { synchronize: false })
@Index('webhook_deliveries_event_id_idx', ['eventId'])
export class WebhookDelivery {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'webhook_deliveries_tenant_id_fkey' })
  tenant?: Tenant;

  @Column({ type: 'uuid' })
  subscriptionId: string;

  @ManyToOne(() => WebhookSubscription, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'subscription_id', foreignKeyConstraintName: 'webhook_deliveries_subscription_id_fkey' })
  subscription?: WebhookSubscription;

  /** The domain event delivered; its id is the webhook-id, stable across retries. */
  @Column({ type: 'uuid' })
  eventId: string;

  @ManyToOne(() => DomainEventRecord, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'webhook_deliveries_event_id_fkey' })
  event?: DomainEventRecord;

  @Column({ type: 'text' })
  eventName: string;

  @Column({ type: 'text', default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  completedAt: Date | null;
}
