import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthContext } from '../common/auth/auth-context.js';
import { AppError, type ErrorDetail } from '../common/errors/app-error.js';
import type { ErrorCode } from '../common/errors/error-codes.js';
import { validationException, VALIDATOR_OPTIONS } from '../common/http/validation.js';
import type { Contact } from './contact.entity.js';
import { ContactsService, toEntityFields } from './contacts.service.js';
import type { ContactBatchDto, ContactBatchItemResultDto, ContactBatchResponseDto } from './dto/contact-batch.dto.js';
import { ContactResponseDto, CreateContactDto } from './dto/contact.dto.js';

interface ValidItem {
  index: number;
  email: string;
  fields: Partial<Contact>;
}

type CheckedItem = ValidItem | ContactBatchItemResultDto;

/** Raised inside the transaction to roll an atomic batch back; carries the failed item. */
class AtomicBatchFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly result: ContactBatchItemResultDto,
  ) {
    super(result.message);
  }
}

function failure(index: number, code: ErrorCode, message: string, details: ErrorDetail[]): ContactBatchItemResultDto {
  return { index, status: 'error', code, message, details };
}

function isValid(item: CheckedItem): item is ValidItem {
  return 'fields' in item;
}

/**
 * POST /api/contacts/batch: upserts up to 500 contacts by email in one transaction, through the same
 * validation (CreateContactDto), upsert (ContactsService.upsertByEmail) and ContactsService writes as the single
 * routes and the inbound contact.upsert, so each effective change publishes its one domain event.
 */
@Injectable()
export class ContactsBatchService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly contacts: ContactsService,
  ) {}

  async upsert(auth: AuthContext, dto: ContactBatchDto, atomic: boolean): Promise<ContactBatchResponseDto> {
    const checked = dto.contacts.map((raw, index) => this.check(raw, index));
    const invalid = checked.filter((item): item is ContactBatchItemResultDto => !isValid(item));
    if (atomic && invalid.length > 0) throw this.atomicError('VALIDATION_FAILED', invalid);
    let results: ContactBatchItemResultDto[];
    try {
      results = await this.dataSource.transaction((manager) => this.write(manager, auth.tenantId, checked, atomic));
    } catch (error) {
      if (error instanceof AtomicBatchFailure) throw this.atomicError(error.code, [error.result]);
      throw error;
    }
    const summary = { created: 0, updated: 0, unchanged: 0, error: 0 };
    for (const result of results) summary[result.status] += 1;
    return { results, summary };
  }

  /** The item as CreateContactDto checks it, with an email required: the upsert key. */
  private check(raw: unknown, index: number): CheckedItem {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      const message = `contacts[${index}] must be a contact object such as {"email": "john@example.com"}`;
      return failure(index, 'VALIDATION_FAILED', message, [{ field: `contacts[${index}]`, message }]);
    }
    const dto = plainToInstance(CreateContactDto, raw, { enableImplicitConversion: false });
    const errors = validateSync(dto, VALIDATOR_OPTIONS);
    if (errors.length > 0) {
      const error = validationException(errors);
      return failure(index, error.code, error.message, error.details ?? []);
    }
    if (!dto.email) return failure(index, 'VALIDATION_FAILED', 'email is required', [{ field: 'email', message: 'email is required' }]);
    const { email: _email, ...fields } = toEntityFields(dto);
    return { index, email: dto.email, fields };
  }

  private async write(manager: EntityManager, tenantId: string, checked: CheckedItem[], atomic: boolean): Promise<ContactBatchItemResultDto[]> {
    const valid = checked.filter(isValid);
    // One locked read for every contact the batch names, instead of one per item.
    const known = await this.contacts.lockByEmails(manager, tenantId, valid.map((item) => item.email));
    const results: ContactBatchItemResultDto[] = [];
    for (const item of checked) {
      if (!isValid(item)) {
        results.push(item);
        continue;
      }
      try {
        const { contact, action } = await this.upsertOne(manager, tenantId, item, known.get(item.email.toLowerCase()) ?? null);
        known.set(item.email.toLowerCase(), contact);
        results.push({ index: item.index, status: action, id: contact.id, contact: ContactResponseDto.from(contact) });
      } catch (error) {
        // Refusals (409 and the like) are the item's result; anything else fails the whole batch.
        if (!(error instanceof AppError) || error.status >= 500) throw error;
        const result = failure(item.index, error.code, error.message, error.details ?? []);
        if (atomic) throw new AtomicBatchFailure(error.code, result);
        results.push(result);
      }
    }
    return results;
  }

  /** A contact created by a concurrent writer since the batch's read is found again and updated instead. */
  private async upsertOne(manager: EntityManager, tenantId: string, item: ValidItem, existing: Contact | null) {
    try {
      return await this.contacts.upsertByEmail(manager, tenantId, item.email, item.fields, {}, existing);
    } catch (error) {
      if (existing || !(error instanceof AppError) || error.status !== 409) throw error;
      const winner = await this.contacts.findByEmail(manager, tenantId, item.email, true);
      if (!winner) throw error;
      return this.contacts.upsertByEmail(manager, tenantId, item.email, item.fields, {}, winner);
    }
  }

  /** The answer of an atomic batch that wrote nothing: the failed items' fields in `details`, as contacts[i].field. */
  private atomicError(code: ErrorCode, failed: ContactBatchItemResultDto[]): AppError {
    const details = failed.flatMap((result) =>
      (result.details ?? []).map((detail) => ({
        field: detail.field.startsWith('contacts[') ? detail.field : `contacts[${result.index}].${detail.field}`,
        message: detail.message,
      })),
    );
    const first = failed[0];
    const which = failed.length === 1 ? `contacts[${first.index}]` : `${failed.length} contacts`;
    return new AppError(code, `Nothing was written (atomic=true): ${which} failed; first: ${first.message}`, { details });
  }
}
