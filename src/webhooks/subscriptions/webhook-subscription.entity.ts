import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Tenant } from '../../tenants/tenant.entity.js';

@Entity('webhook_subscriptions')
// One subscription per (tenant, event_name, target_url): automation platforms re-register on every activation.
@Index('webhook_subscriptions_tenant_id_event_name_target_url_key', ['tenantId', 'eventName', 'targetUrl'], { unique: true })
@Index('webhook_subscriptions_tenant_id_created_at_id_idx', ['tenantId', 'createdAt', 'id'])
export class WebhookSubscription {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'webhook_subscriptions_tenant_id_fkey' })
  tenant?: Tenant;

  /** A catalog event name, `<prefix>.*`, or `*`. */
  @Column({ type: 'text' })
  eventName: string;

  @Column({ type: 'text' })
  targetUrl: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /**
   * Static headers sent with every delivery (e.g. n8n's Header Auth credential), as encrypted JSON:
   * their values are often credentials themselves.
   */
  @Column({ type: 'text', nullable: true })
  headersEncrypted: string | null;

  /** The signing secret, AES-256-GCM encrypted with SECRETS_ENCRYPTION_KEY. */
  @Column({ type: 'text' })
  secretEncrypted: string;

  /** The secret replaced by the last rotation, still signing until previousSecretExpiresAt. */
  @Column({ type: 'text', nullable: true })
  previousSecretEncrypted: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  /** Matched by containment (jsonb @>) against the delivery body at fan-out; null: every event. */
  @Column({ type: 'jsonb', nullable: true })
  filter: Record<string, any> | null;

  @Column({ type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  /** When deliveries started failing without a success since; three days of that disables the subscription. */
  @Column({ type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
