import { randomUUID } from 'node:crypto';
import type { DeepPartial, EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { AppError, duplicateOf } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { isUniqueViolation } from '../http/conflict.js';
import { diffFields, type FieldChanges } from './record-fields.js';

/** A row of a tenant-scoped table: every CRM record has an id and the tenant it belongs to. */
export interface TenantRecord extends ObjectLiteral {
  id: string;
  tenantId: string;
}

/** A unique constraint of the table, and how the 409 that names the record holding the value reads. */
export interface UniqueKey<E> {
  constraint: string;
  property: keyof E & string;
  /** The field as the API and the record's snapshot name it (`details[].field`, a key of `changes`). */
  field: string;
  code: ErrorCode;
  /** The index is on lower(column): the holder is looked up in any case. */
  ignoreCase?: boolean;
}

/** What the helper needs to know of one record type. */
export interface RecordSpec<E extends TenantRecord, S extends object> {
  entity: new () => E;
  /** The alias of the table in queries (`c` for contacts). */
  alias: string;
  /** The record's name in messages: "contact" → "Contact … not found", "A contact with email … already exists". */
  noun: string;
  notFound: ErrorCode;
  /** The record as its events carry it; what changed is diffed on this. */
  snapshot: (record: E) => S;
  /** The snapshot's fields that count: an update that changes none of them writes and publishes nothing. */
  diffed: ReadonlyArray<keyof S & string>;
  /** In the order a refused insert looks for the holder. */
  unique?: ReadonlyArray<UniqueKey<E>>;
}

export interface RecordChange<E> {
  before: E;
  after: E;
  changes: FieldChanges;
}

export interface ChangeOptions<E> {
  /** Refuses the change (a 400 or 409 of the feature's own) from the record as it would become, before anything is written. */
  check?: (candidate: E, changes: FieldChanges) => Promise<void> | void;
  /** Publishes the change's domain events through the caller's transaction. */
  publish: (change: RecordChange<E>) => Promise<unknown>;
}

type Row = Record<string, unknown>;

/** Binds a value of a statement put together from parts and gives its placeholder (database/sql.ts SqlParams). */
export interface StatementParams {
  bind(value: unknown): string;
}

/**
 * Writes a record write (a `written AS (… RETURNING id)` CTE) in one statement with the records' events, and
 * answers with the ids written: DomainEventPublisher.publishWithWrite, given the events by the caller.
 */
export type PublishWithWrite = (write: (params: StatementParams) => string) => Promise<Set<string>>;

const capitalized = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
const withArticle = (noun: string): string => `${/^[aeiou]/i.test(noun) ? 'An' : 'A'} ${noun}`;

/**
 * The one way contacts, deals and invoices read and write their rows: always within the tenant, each write one
 * statement that returns the row (INSERT/UPDATE/DELETE … RETURNING), a unique value another record holds
 * answered as a 409 naming that record (`existing_id`), and an update that diffs, writes and publishes only
 * what really changed. Every method takes the caller's EntityManager, so it joins the caller's transaction.
 */
export class TenantRecords<E extends TenantRecord, S extends object> {
  constructor(private readonly spec: RecordSpec<E, S>) {}

  /** A query of the tenant's records (aliased `spec.alias`), to narrow with andWhere. */
  query(manager: EntityManager, tenantId: string): SelectQueryBuilder<E> {
    const { alias } = this.spec;
    return manager.getRepository(this.spec.entity).createQueryBuilder(alias).where(`${alias}.tenantId = :tenantId`, { tenantId });
  }

  /**
   * The tenant's record with this id, or a 404 (another tenant's reads exactly like a missing one). `lock`
   * holds it FOR UPDATE until the caller's transaction ends.
   */
  async findOrFail(manager: EntityManager, tenantId: string, id: string, lock = false): Promise<E> {
    const query = this.query(manager, tenantId).andWhere(`${this.spec.alias}.id = :id`, { id });
    if (lock) query.setLock('pessimistic_write');
    const record = await query.getOne();
    if (!record) throw this.notFound(id);
    return record;
  }

  /**
   * Inserts a record of the tenant in one statement; columns not given take their default. A unique value
   * another record holds (checked by the index itself, so concurrent inserts cannot both win) is a 409 naming
   * the holder. ON CONFLICT DO NOTHING leaves the transaction usable for that lookup, with no savepoint.
   */
  async insert(manager: EntityManager, tenantId: string, fields: Partial<E>): Promise<E> {
    const [result] = await this.insertMany(manager, [{ tenantId, fields }]);
    if (result instanceof AppError) throw result;
    return result;
  }

  /**
   * insert for several records (of any tenants, each row its own) in one statement: one answer per row, in
   * order, the stored record or the 409 that refused it (a value held by another record, or by an earlier row
   * of the same call), so that one taken value fails only its own row.
   */
  async insertMany(manager: EntityManager, rows: Array<{ tenantId: string; fields: Partial<E> }>): Promise<Array<E | AppError>> {
    // Ids are chosen here, so that each returned row is matched to the row that asked for it.
    const values = rows.map(({ tenantId, fields }) => ({ ...fields, id: randomUUID(), tenantId }));
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(this.spec.entity)
      .values(values as Array<QueryDeepPartialEntity<E>>)
      .orIgnore()
      .returning('*')
      .updateEntity(false)
      .execute();
    const stored = new Map((result.raw as Row[]).map((row) => [row.id as string, row]));
    const answers: Array<E | AppError> = [];
    for (const [index, value] of values.entries()) {
      const row = stored.get(value.id);
      answers.push(row ? this.fromRow(manager, row) : await this.refusal(manager, rows[index].tenantId, rows[index].fields));
    }
    return answers;
  }

  /**
   * insertMany for records the caller has made whole (every column chosen, id and timestamps included, so their
   * events can be built before the write), written with their events in one statement by `publish`: the
   * INSERT, the outbox rows of the records that went in, and the fan-out. One answer per record, in order: the
   * record as given (as stored), or the 409 that refused it.
   */
  async insertPublishing(manager: EntityManager, records: E[], publish: PublishWithWrite): Promise<Array<E | AppError>> {
    if (records.length === 0) return [];
    const { connection } = manager;
    const metadata = connection.getMetadata(this.spec.entity);
    const columns = metadata.columns.filter((column) => !column.isVirtual);
    const names = columns.map((column) => connection.driver.escape(column.databaseName)).join(', ');
    const types = columns.map((column) => `${connection.driver.escape(column.databaseName)} ${connection.driver.normalizeType(column)}`).join(', ');
    // The rows as one JSON array: jsonb columns nest as they are, dates become ISO strings.
    const rows = records.map((record) => Object.fromEntries(columns.map((column) => [column.databaseName, column.getEntityValue(record) as unknown])));
    const written = await publish((params) => `written AS (
         INSERT INTO ${connection.driver.escape(metadata.tablePath)} (${names})
         SELECT ${names} FROM jsonb_to_recordset(${params.bind(JSON.stringify(rows))}::jsonb) AS r(${types})
         ON CONFLICT DO NOTHING
         RETURNING id)`);
    const answers: Array<E | AppError> = [];
    for (const record of records) answers.push(written.has(record.id) ? record : await this.refusal(manager, record.tenantId, record));
    return answers;
  }

  /** Why an insert was not stored: the 409 naming the holder of a unique value, or a conflict with a write that has since gone. */
  private async refusal(manager: EntityManager, tenantId: string, fields: Partial<E>): Promise<AppError> {
    for (const key of this.spec.unique ?? []) {
      const conflict = await this.conflictOver(manager, tenantId, key, fields[key.property]);
      if (conflict) return conflict;
    }
    return new AppError('WRITE_CONFLICT', `The ${this.spec.noun} conflicts with one just written; retry`);
  }

  /**
   * A partial update (omitted fields keep their value) of the tenant's record, locked for the transaction.
   * `fields` may be computed from the locked record. When the snapshot changes, `check` may refuse the change,
   * then the row is written and `publish` gets the record before and after and what changed; when it does
   * not, nothing is written or published (`changed` false: updated_at cannot tell, now() is fixed in a transaction).
   */
  async change(
    manager: EntityManager,
    tenantId: string,
    id: string,
    fields: Partial<E> | ((before: E) => Partial<E>),
    options: ChangeOptions<E>,
  ): Promise<{ record: E; changed: boolean }> {
    const before = await this.findOrFail(manager, tenantId, id, true);
    const target = typeof fields === 'function' ? fields(before) : fields;
    const repository = manager.getRepository(this.spec.entity);
    const candidate = repository.merge(repository.create({ ...before }), target as DeepPartial<E>);
    const changes = diffFields(this.spec.snapshot(before), this.spec.snapshot(candidate), this.spec.diffed);
    if (Object.keys(changes).length === 0) return { record: before, changed: false };
    await options.check?.(candidate, changes);
    const touched = (this.spec.unique ?? []).filter((key) => key.field in changes);
    const after = await this.update(manager, tenantId, id, target, touched);
    await options.publish({ before, after, changes });
    return { record: after, changed: true };
  }

  /** Deletes the tenant's record (a 404 when there is none) and publishes its deletion with the record as it was. */
  async delete(manager: EntityManager, tenantId: string, id: string, publish: (deleted: E) => Promise<unknown>): Promise<void> {
    const result = await manager.createQueryBuilder().delete().from(this.spec.entity).where({ id, tenantId }).returning('*').execute();
    const [row] = result.raw as Row[];
    if (!row) throw this.notFound(id);
    await publish(this.fromRow(manager, row));
  }

  /**
   * Writes the fields and returns the row as stored. A write that changes a unique value runs in a savepoint:
   * when a concurrent writer took the value first, the index refuses it, the savepoint keeps the transaction
   * usable and the answer is the 409 naming the holder. Other writes need none (two statements fewer).
   */
  private async update(manager: EntityManager, tenantId: string, id: string, fields: Partial<E>, touched: Array<UniqueKey<E>>): Promise<E> {
    const write = async (target: EntityManager): Promise<E> => {
      const result = await target
        .createQueryBuilder()
        .update(this.spec.entity)
        .set(fields as QueryDeepPartialEntity<E>)
        .where({ id, tenantId })
        .returning('*')
        .updateEntity(false)
        .execute();
      const [row] = result.raw as Row[];
      if (!row) throw this.notFound(id);
      return this.fromRow(target, row);
    };
    if (touched.length === 0) return write(manager);
    try {
      return await manager.transaction(write);
    } catch (error) {
      const key = touched.find((candidate) => isUniqueViolation(error, candidate.constraint));
      if (!key) throw error;
      const value = fields[key.property];
      throw (await this.conflictOver(manager, tenantId, key, value)) ?? new AppError(key.code, this.takenMessage(key, value));
    }
  }

  /** The 409 naming the tenant's record that holds this unique value, or null when none does (any more). */
  private async conflictOver(manager: EntityManager, tenantId: string, key: UniqueKey<E>, value: unknown): Promise<AppError | null> {
    if (value === null || value === undefined) return null;
    const { alias } = this.spec;
    const column = `${alias}.${key.property}`;
    const holder = await this.query(manager, tenantId)
      .select(`${alias}.id`)
      .andWhere(key.ignoreCase ? `lower(${column}) = lower(:value)` : `${column} = :value`, { value })
      .getOne();
    if (!holder) return null;
    return duplicateOf(key.code, `${this.takenMessage(key, value)} (id ${holder.id})`, key.field, holder.id);
  }

  private takenMessage(key: UniqueKey<E>, value: unknown): string {
    return `${withArticle(this.spec.noun)} with ${key.field} ${String(value)} already exists`;
  }

  private notFound(id: string): AppError {
    return new AppError(this.spec.notFound, `${capitalized(this.spec.noun)} ${id} not found`);
  }

  /** A row as RETURNING * gives it (column names, driver values) as the entity TypeORM would have read. */
  private fromRow(manager: EntityManager, row: Row): E {
    const metadata = manager.connection.getMetadata(this.spec.entity);
    const record = metadata.create() as E;
    for (const column of metadata.columns) {
      if (column.isVirtual || !(column.databaseName in row)) continue;
      column.setEntityValue(record, manager.connection.driver.prepareHydratedValue(row[column.databaseName], column));
    }
    return record;
  }
}
