import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { AuthContext } from '../common/auth/auth-context.js';
import { paginate } from '../common/http/pagination.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { diffFields, DomainEventPublisher } from '../events/domain-event-publisher.js';
import { Deal } from './deal.entity.js';
import {
  dealEventFields,
  DealResponseDto,
  type CreateDealDto,
  type ListDealsQueryDto,
  type UpdateDealDto,
} from './dto/deal.dto.js';
import { AppError } from '../common/errors/app-error.js';

const EVENT_FIELDS = ['title', 'value', 'currency', 'stage', 'contact_id'] as const;

/** The request's fields as entity properties; undefined means "not given". */
function toEntityFields(dto: CreateDealDto | UpdateDealDto): Partial<Deal> {
  const fields: Partial<Deal> = {
    title: dto.title,
    value: dto.value,
    currency: dto.currency,
    stage: dto.stage,
    contactId: dto.contact_id,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<Deal>;
}

@Injectable()
export class DealsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: DomainEventPublisher,
    private readonly contacts: ContactsService,
  ) {}

  async create(auth: AuthContext, dto: CreateDealDto): Promise<DealResponseDto> {
    const deal = await this.dataSource.transaction((manager) => this.insert(manager, auth.tenantId, toEntityFields(dto)));
    return DealResponseDto.from(deal);
  }

  /** Inserts a deal and publishes deal.created in the caller's transaction; a contact_id outside the tenant is a 400. */
  async insert(manager: EntityManager, tenantId: string, fields: Partial<Deal>): Promise<Deal> {
    if (fields.contactId) await this.contacts.assertInTenant(manager, tenantId, fields.contactId);
    const repository = manager.getRepository(Deal);
    const deal = repository.create({ ...fields, tenantId });
    await repository.insert(deal as QueryDeepPartialEntity<Deal>);
    const saved = await repository.findOneByOrFail({ id: deal.id });
    await this.events.publish(manager, tenantId, 'deal.created', dealEventFields(saved));
    return saved;
  }

  async list(auth: AuthContext, query: ListDealsQueryDto): Promise<{ data: DealResponseDto[]; next_cursor: string | null }> {
    const builder = this.dataSource.getRepository(Deal).createQueryBuilder('d').where('d.tenantId = :tenantId', { tenantId: auth.tenantId });
    if (query.stage) builder.andWhere('d.stage = :stage', { stage: query.stage });
    if (query.contact_id) builder.andWhere('d.contactId = :contactId', { contactId: query.contact_id });
    return paginate(builder, query, DealResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<DealResponseDto> {
    return DealResponseDto.from(await this.findOrFail(this.dataSource.manager, auth.tenantId, id));
  }

  async update(auth: AuthContext, id: string, dto: UpdateDealDto): Promise<DealResponseDto> {
    const deal = await this.dataSource.transaction((manager) => this.applyChanges(manager, auth.tenantId, id, toEntityFields(dto)));
    return DealResponseDto.from(deal);
  }

  /**
   * Applies changes to a deal (locked for the transaction) and publishes deal.updated with the fields that
   * really changed, plus deal.stage_changed when the stage moved; a change that changes nothing writes and
   * publishes nothing.
   */
  async applyChanges(manager: EntityManager, tenantId: string, id: string, fields: Partial<Deal>): Promise<Deal> {
    const repository = manager.getRepository(Deal);
    const before = await this.findOrFail(manager, tenantId, id, true);
    const candidate = repository.merge(repository.create({ ...before }), fields);
    const changes = diffFields(dealEventFields(before), dealEventFields(candidate), EVENT_FIELDS);
    if (Object.keys(changes).length === 0) return before;
    if (changes.contact_id && candidate.contactId) await this.contacts.assertInTenant(manager, tenantId, candidate.contactId);
    await repository.update({ id, tenantId }, fields as QueryDeepPartialEntity<Deal>);
    const after = await repository.findOneByOrFail({ id });
    await this.events.publish(manager, tenantId, 'deal.updated', { ...dealEventFields(after), changes });
    if (changes.stage) {
      await this.events.publish(manager, tenantId, 'deal.stage_changed', { ...dealEventFields(after), previous_stage: before.stage });
    }
    return after;
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const deal = await this.findOrFail(manager, auth.tenantId, id, true);
      await manager.getRepository(Deal).delete({ id, tenantId: auth.tenantId });
      await this.events.publish(manager, auth.tenantId, 'deal.deleted', dealEventFields(deal));
    });
  }

  private async findOrFail(manager: EntityManager, tenantId: string, id: string, lock = false): Promise<Deal> {
    const query = manager.getRepository(Deal).createQueryBuilder('d').where('d.id = :id AND d.tenantId = :tenantId', { id, tenantId });
    if (lock) query.setLock('pessimistic_write');
    const deal = await query.getOne();
    if (!deal) throw new AppError('DEAL_NOT_FOUND', `Deal ${id} not found`);
    return deal;
  }
}
