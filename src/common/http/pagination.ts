import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AppError } from '../errors/app-error.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** `?limit=`: a page size from 1 to MAX_PAGE_SIZE (DEFAULT_PAGE_SIZE when omitted), for every paged route. */
export function PageLimit(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
    IsOptional(),
    Type(() => Number),
    IsInt({ message: 'limit must be a whole number' }),
    Min(1),
    Max(MAX_PAGE_SIZE),
  );
}

/** `?limit=&cursor=` shared by every list route. */
export class PageQueryDto {
  @PageLimit()
  limit?: number;

  @ApiPropertyOptional({ description: 'The next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

export class PageDto<T> {
  data: T[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as ?cursor= for the next page; null on the last page' })
  next_cursor: string | null;
}

interface CursorPosition {
  createdAt: Date;
  id: string;
}

type SortKey<E> = { [K in keyof E]: E[K] extends Date ? K : never }[keyof E] & string;

function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function decodeCursor(cursor: string): CursorPosition {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const date = new Date(String(createdAt));
    if (typeof createdAt !== 'string' || !ISO_TIME.test(createdAt) || Number.isNaN(date.getTime()) || typeof id !== 'string' || !UUID.test(id)) {
      throw new Error('bad cursor');
    }
    return { createdAt: date, id };
  } catch {
    const message = 'cursor is not valid: pass the next_cursor value of a previous page unchanged';
    throw new AppError('INVALID_CURSOR', message, { details: [{ field: 'cursor', message }] });
  }
}

/**
 * Keyset pagination, newest first, on (created_at, id) — or another timestamp — stable under concurrent
 * inserts, and served by an index on (tenant_id, <timestamp>, id). Reads one row more than the page to know whether another follows.
 */
export async function paginate<E extends ObjectLiteral & { id: string }, D>(
  query: SelectQueryBuilder<E>,
  page: PageQueryDto,
  toDto: (entity: E) => D,
  sortBy: SortKey<E> = 'createdAt' as SortKey<E>,
): Promise<{ data: D[]; next_cursor: string | null }> {
  const alias = query.alias;
  const sortColumn = `${alias}.${sortBy}`;
  const limit = page.limit ?? DEFAULT_PAGE_SIZE;
  if (page.cursor) {
    const position = decodeCursor(page.cursor);
    query.andWhere(`(${sortColumn}, ${alias}.id) < (:cursorCreatedAt, :cursorId)`, {
      cursorCreatedAt: position.createdAt,
      cursorId: position.id,
    });
  }
  const rows = await query
    .orderBy(sortColumn, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .limit(limit + 1)
    .getMany();
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  return {
    data: pageRows.map(toDto),
    next_cursor: hasMore ? encodeCursor({ createdAt: pageRows[pageRows.length - 1][sortBy] as Date, id: pageRows[pageRows.length - 1].id }) : null,
  };
}
