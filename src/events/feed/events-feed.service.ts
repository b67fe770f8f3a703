import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../../common/auth/auth-context.js';
import { AppError } from '../../common/errors/app-error.js';
import { DEFAULT_PAGE_SIZE } from '../../common/http/pagination.js';
import { eventNamesMatching } from '../event-patterns.js';
import { deliveryBody } from '../event-envelope.js';
import type { EventFeedPageDto, EventFeedQueryDto } from './dto/event-feed.dto.js';
import { decodeFeedCursor, encodeFeedCursor, FEED_START, laterOf, positionBefore, type FeedPosition } from './feed-cursor.js';

interface FeedRow {
  horizon: string;
  txid: string | null;
  seq: string | null;
  payload: Record<string, unknown> | null;
}

/** Every event the feed serves: what a `*` subscription receives (webhook.test goes to one subscription only). */
const FEED_EVENT_NAMES = eventNamesMatching('*');

/**
 * The tenant's domain events in a stable order, for pollers. An event becomes visible only once every
 * transaction older than its own has ended (its txid is below the snapshot's xmin), so an event whose
 * transaction commits late never lands behind a cursor already handed out: a poller that keeps its
 * cursor sees each event exactly once. Events pruned by retention simply vanish; a cursor older than the
 * oldest kept event resumes at the oldest.
 */
@Injectable()
export class EventsFeedService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(auth: AuthContext, query: EventFeedQueryDto): Promise<EventFeedPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    if (query.after === 'latest') {
      const [{ horizon }] = await this.dataSource.query<Array<{ horizon: string }>>(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon`);
      return { data: [], next_cursor: encodeFeedCursor(positionBefore(BigInt(horizon))), has_more: false };
    }
    const from = query.after ? decodeFeedCursor(query.after) : FEED_START;
    const names = query.event_name ? eventNamesMatching(query.event_name) : FEED_EVENT_NAMES;
    // One statement, so the horizon and the rows read come from the same snapshot.
    const rows = await this.dataSource.query<FeedRow[]>(
      `WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
       SELECT h.xmin::text AS horizon, e.txid::text AS txid, e.seq::text AS seq, e.payload
         FROM horizon h LEFT JOIN LATERAL (
           SELECT d.txid, d.seq, d.payload FROM domain_events d
            WHERE d.tenant_id = $1 AND d.txid < h.xmin AND (d.txid, d.seq) > ($2::xid8, $3::bigint) AND d.event_name = ANY($4::text[])
            ORDER BY d.txid, d.seq
            LIMIT $5) e ON true`,
      [auth.tenantId, from.txid.toString(), from.seq.toString(), names, limit + 1],
    );
    const events = rows.filter((row) => row.payload !== null);
    const hasMore = events.length > limit;
    const page = hasMore ? events.slice(0, limit) : events;
    const last: FeedPosition | null = page.length ? { txid: BigInt(page[page.length - 1].txid!), seq: BigInt(page[page.length - 1].seq!) } : null;
    // With nothing more ready, the cursor moves up to the horizon: later polls skip what this one scanned.
    const next = hasMore ? last! : laterOf(laterOf(from, last ?? from), positionBefore(BigInt(rows[0].horizon)));
    return { data: page.map((row) => deliveryBody(row.payload!)), next_cursor: encodeFeedCursor(next), has_more: hasMore };
  }

  async get(auth: AuthContext, id: string): Promise<Record<string, unknown>> {
    const [row] = await this.dataSource.query<Array<{ payload: Record<string, unknown> }>>(
      `SELECT payload FROM domain_events WHERE id = $1 AND tenant_id = $2 AND event_name = ANY($3::text[])`,
      [id, auth.tenantId, FEED_EVENT_NAMES],
    );
    if (!row) throw new AppError('EVENT_NOT_FOUND', `Event ${id} not found`);
    return deliveryBody(row.payload);
  }
}
