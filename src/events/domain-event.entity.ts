import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The outbox: one row per domain event, written in the same transaction as the change it describes. */
@Entity('domain_events')
@Index('domain_events_tenant_id_occurred_at_idx', ['tenantId', 'occurredAt'])
export class DomainEventRecord {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid' })
  tenantId: string;

  @Column({ type: 'text' })
  eventName: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, any>;

  @Column({ type: 'timestamptz' })
  occurredAt: Date;
}
