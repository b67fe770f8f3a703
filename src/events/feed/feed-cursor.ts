import { AppError } from '../../common/errors/app-error.js';

/**
 * A position in the event feed: (txid, seq) of an event, where txid is the writing transaction's 64-bit id
 * (xid8) and seq the insertion order. Handed out as an opaque base64url string.
 */
export interface FeedPosition {
  txid: bigint;
  seq: bigint;
}

const MAX_BIGINT = 2n ** 63n - 1n;
const FORMAT = /^v1:(\d{1,20}):(\d{1,19})$/;

/** Before every event. */
export const FEED_START: FeedPosition = { txid: 0n, seq: 0n };

/** After every event written by transactions older than `horizon` (the oldest transaction still running). */
export function positionBefore(horizon: bigint): FeedPosition {
  return { txid: horizon > 0n ? horizon - 1n : 0n, seq: MAX_BIGINT };
}

export function laterOf(a: FeedPosition, b: FeedPosition): FeedPosition {
  return a.txid > b.txid || (a.txid === b.txid && a.seq >= b.seq) ? a : b;
}

export function encodeFeedCursor(position: FeedPosition): string {
  return Buffer.from(`v1:${position.txid}:${position.seq}`).toString('base64url');
}

export function decodeFeedCursor(cursor: string): FeedPosition {
  const match = FORMAT.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const position = match ? { txid: BigInt(match[1]), seq: BigInt(match[2]) } : null;
  if (!position || position.txid > 2n ** 64n - 1n || position.seq > MAX_BIGINT) {
    const message = 'after must be "latest" or the next_cursor of a previous page, unchanged';
    throw new AppError('INVALID_CURSOR', message, { details: [{ field: 'after', message }] });
  }
  return position;
}
