import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { UserRole } from '../common/auth/auth-context.js';
import { Tenant } from '../tenants/tenant.entity.js';

@Entity('users')
@Check('users_role_check', `"role" IN ('admin', 'member')`)
// Login is by email alone, so an email is unique across tenants, whatever its case.
@Index('users_email_lower_key', { synchronize: false })
@Index('users_tenant_id_created_at_id_idx', ['tenantId', 'createdAt', 'id'])
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  tenantId: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id', foreignKeyConstraintName: 'users_tenant_id_fkey' })
  tenant?: Tenant;

  @Column({ type: 'text' })
  email: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  passwordHash: string;

  @Column({ type: 'text' })
  role: UserRole;

  // Millisecond precision so a JavaScript Date round-trips exactly in pagination cursors.
  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
