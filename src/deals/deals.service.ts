import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthContext } from '../common/auth/auth-context.js';
import { paginate } from '../common/http/pagination.js';
import { definedFields } from '../common/records/record-fields.js';
import { TenantRecords } from '../common/records/tenant-records.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { DomainEventPublisher } from '../events/domain-event-publisher.js';
import { Deal } from './deal.entity.js';
import {
  dealEventFields,
  DealResponseDto,
  type CreateDealDto,
  type ListDealsQueryDto,
  type UpdateDealDto,
} from './dto/deal.dto.js';

const DEALS = new TenantRecords({
  entity: Deal,
  alias: 'd',
  noun: 'deal',
  notFound: 'DEAL_NOT_FOUND',
  snapshot: dealEventFields,
  diffed: ['title', 'value', 'currency', 'stage', 'contact_id'],
});

/** The request's fields as entity properties; undefined means "not given". */
function toEntityFields(dto: CreateDealDto | UpdateDealDto): Partial<Deal> {
  return definedFields<Partial<Deal>>({
    title: dto.title,
    value: dto.value,
    currency: dto.currency,
    stage: dto.stage,
    contactId: dto.contact_id,
  });
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
    const deal = await DEALS.insert(manager, tenantId, fields);
    await this.events.publish(manager, tenantId, 'deal.created', dealEventFields(deal));
    return deal;
  }

  async list(auth: AuthContext, query: ListDealsQueryDto): Promise<{ data: DealResponseDto[]; next_cursor: string | null }> {
    const builder = DEALS.query(this.dataSource.manager, auth.tenantId);
    if (query.stage) builder.andWhere('d.stage = :stage', { stage: query.stage });
    if (query.contact_id) builder.andWhere('d.contactId = :contactId', { contactId: query.contact_id });
    return paginate(builder, query, DealResponseDto.from);
  }

  async get(auth: AuthContext, id: string): Promise<DealResponseDto> {
    return DealResponseDto.from(await DEALS.findOrFail(this.dataSource.manager, auth.tenantId, id));
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
    const { record } = await DEALS.change(manager, tenantId, id, fields, {
      check: (candidate, changes) => this.contacts.assertLinkable(manager, tenantId, candidate.contactId, changes),
      publish: async ({ before, after, changes }) => {
        await this.events.publish(manager, tenantId, 'deal.updated', { ...dealEventFields(after), changes });
        if (changes.stage) {
          await this.events.publish(manager, tenantId, 'deal.stage_changed', { ...dealEventFields(after), previous_stage: before.stage });
        }
      },
    });
    return record;
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await this.dataSource.transaction((manager) =>
      DEALS.delete(manager, auth.tenantId, id, (deal) => this.events.publish(manager, auth.tenantId, 'deal.deleted', dealEventFields(deal))),
    );
  }
}
