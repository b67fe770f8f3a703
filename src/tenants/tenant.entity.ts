import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('tenants')
export class Tenant {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** SHA-256 (hex) of the current inbound webhook API key; the key itself is never stored. */
  @Column({ type: 'text', nullable: true })
  webhookApiKeyHash: string | null;

  /** The key's first characters, shown so a person can tell keys apart. */
  @Column({ type: 'text', nullable: true })
  webhookApiKeyPrefix: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  webhookApiKeyCreatedAt: Date | null;

  /** The replaced key's hash, accepted until previousWebhookApiKeyExpiresAt (rotation grace). */
  @Column({ type: 'text', nullable: true })
  previousWebhookApiKeyHash: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  previousWebhookApiKeyExpiresAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
