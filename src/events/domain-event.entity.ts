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

  /**
   * Insertion order, the feed's tie-break within one transaction. The feed's main key, `txid` (xid8: the
   * writing transaction's id, filled by the column default), is read only through SQL: TypeORM has no xid8 type.
   */
  @Column({ type: 'bigint', insert: false, update: false, select: false })
  seq: string;
}
