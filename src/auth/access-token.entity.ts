import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { AccessTokenKind } from '../common/auth/auth-context.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { User } from '../users/user.entity.js';

/** A bearer credential: a login session or a long-lived API token. Only its SHA-256 hash is stored. */
@Entity('access_tokens')
@Check('access_tokens_kind_check', `"kind" IN ('session', 'api')`)
@Index('access_tokens_token_hash_key', ['tokenHash'], { unique: true })
@Index('access_tokens_user_id_kind_idx', ['userId', 'kind'])
export class AccessToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'access_tokens_tenant_id_fkey' })
  tenant?: Tenant;

  @Column({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'access_tokens_user_id_fkey' })
  user?: User;

  @Column({ type: 'text' })
  kind: AccessTokenKind;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ type: 'text' })
  tokenHash: string;

  @Column({ type: 'text' })
  prefix: string;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
