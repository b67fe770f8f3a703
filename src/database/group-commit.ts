import { isDatabaseUnavailable } from '../common/http/database-unavailable.js';

/**
 * Group commit: requests that arrive while a write is under way are written together, in one statement,
 * as soon as a write slot frees up; each caller's promise settles only once the statement that carries
 * its item has completed (for an autocommitted statement: once it is committed — never before).
 *
 * A failed batch of several items is written again one item at a time, so one bad item (a foreign key that
 * no longer holds, say) fails only its own caller; when the database is unavailable every caller gets that
 * error at once.
 */
export class GroupCommit<Item, Result> {
  private queue: Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }> = [];
  private writing = 0;
  private scheduled = false;

  /**
   * `write` takes a batch and returns one result per item, in order. At most `maxInFlight` batches are
   * written at once (each on a pooled connection of its own), of at most `maxBatch` items.
   */
  constructor(
    private readonly write: (items: Item[]) => Promise<Result[]>,
    private readonly options: { maxBatch: number; maxInFlight: number },
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Starts a write at the end of this turn of the event loop, so requests parsed in the same turn share it. */
  private schedule(): void {
    if (this.scheduled || this.writing >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.writing < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.writing += 1;
      void this.writeBatch(batch).finally(() => {
        this.writing -= 1;
        this.schedule();
      });
    }
  }

  private async writeBatch(batch: GroupCommit<Item, Result>['queue']): Promise<void> {
    try {
      const results = await this.write(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(results[index]));
    } catch (error) {
      if (batch.length === 1 || isDatabaseUnavailable(error)) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      // One at a time: only the items that fail on their own fail.
      await Promise.all(batch.map((entry) => this.writeBatch([entry])));
    }
  }
}
