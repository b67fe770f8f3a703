import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthContext, UserRole } from '../common/auth/auth-context.js';
import { hashPassword } from '../common/crypto/password.js';
import { DomainEventPublisher } from '../events/domain-event-publisher.js';
import { isUniqueViolation } from '../common/http/conflict.js';
import { paginate, type PageQueryDto } from '../common/http/pagination.js';
import { User } from './user.entity.js';
import { UserResponseDto } from './dto/user-response.dto.js';
import type { CreateUserDto } from './dto/create-user.dto.js';
import { AppError, duplicateOf } from '../common/errors/app-error.js';

export interface NewUser {
  tenantId: string;
  email: string;
  name: string;
  password: string;
  role: UserRole;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: DomainEventPublisher,
  ) {}

  /** Creates a user in the caller's tenant and emits user.created. */
  async create(auth: AuthContext, dto: CreateUserDto): Promise<UserResponseDto> {
    const user = await this.dataSource.transaction((manager) =>
      this.insert(manager, { tenantId: auth.tenantId, email: dto.email, name: dto.name, password: dto.password, role: dto.role ?? 'member' }),
    );
    return UserResponseDto.from(user);
  }

  /** Inserts a user inside the caller's transaction; a taken email (any case, any tenant) is a 409. */
  async insert(manager: EntityManager, input: NewUser): Promise<User> {
    const repository = manager.getRepository(User);
    await this.assertEmailFree(manager, input.tenantId, input.email);
    const user = repository.create({
      tenantId: input.tenantId,
      email: input.email,
      name: input.name,
      role: input.role,
      passwordHash: await hashPassword(input.password),
    });
    try {
      // In a savepoint: a concurrent insert of the same email leaves the transaction usable to name the holder.
      await manager.transaction((savepoint) => savepoint.getRepository(User).insert(user));
    } catch (error) {
      if (isUniqueViolation(error)) await this.assertEmailFree(manager, input.tenantId, input.email);
      throw error;
    }
    const saved = await repository.findOneByOrFail({ id: user.id });
    await this.events.publish(manager, saved.tenantId, 'user.created', {
      user_id: saved.id,
      email: saved.email,
      name: saved.name,
      role: saved.role,
      created_at: saved.createdAt.toISOString(),
    });
    return saved;
  }

  async list(auth: AuthContext, page: PageQueryDto): Promise<{ data: UserResponseDto[]; next_cursor: string | null }> {
    const query = this.dataSource.getRepository(User).createQueryBuilder('u').where('u.tenantId = :tenantId', { tenantId: auth.tenantId });
    return paginate(query, page, UserResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<UserResponseDto> {
    const user = await this.dataSource.getRepository(User).findOneBy({ id, tenantId: auth.tenantId });
    if (!user) throw new AppError('USER_NOT_FOUND', `User ${id} not found`);
    return UserResponseDto.from(user);
  }

  /**
   * A taken email (any case, any tenant) is a 409; it names the user holding it only when that user is in the
   * caller's own tenant (another tenant's ids are never revealed).
   */
  private async assertEmailFree(manager: EntityManager, tenantId: string, email: string): Promise<void> {
    const holder = await manager.getRepository(User).createQueryBuilder('u').select(['u.id', 'u.tenantId']).where('lower(u.email) = lower(:email)', { email }).getOne();
    if (!holder) return;
    const message = `A user with email ${email} already exists`;
    if (holder.tenantId !== tenantId) throw new AppError('USER_EMAIL_TAKEN', `${message}; use another email or log in`);
    throw duplicateOf('USER_EMAIL_TAKEN', `${message} (id ${holder.id})`, 'email', holder.id);
  }
}
