// Run history as the beat writes it: the rows of each batch (runs sent, runs skipped by
// the starting deadline) go to dbbeat_run in one INSERT, in the background, beside the
// recording of last_run_at. At most one write is in flight; a failed write keeps its rows
// for the next try, up to MAX_PENDING (history must never hold the beat's memory hostage).
import type { BeatStore, RunEntry } from '../db/store.js';
import type { Logger } from './logger.js';

/** Rows kept for a retry while the database refuses them; beyond this the oldest are dropped. */
const MAX_PENDING = 200_000;

export class HistoryWriter {
  private pending: RunEntry[] = [];
  private writing: Promise<void> | undefined;
  private warned = false;

  constructor(
    private readonly store: Pick<BeatStore, 'insertRuns'>,
    private readonly log: Logger,
  ) {}

  /** Queues rows and starts writing them unless a write runs already (it takes them next). */
  add(entries: readonly RunEntry[]): void {
    if (entries.length === 0) return;
    this.pending.push(...entries);
    if (this.pending.length > MAX_PENDING) {
      const dropped = this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.log.warn(
        { dropped: dropped.length },
        `run history: dropped ${dropped.length} row(s) the database would not take`,
      );
    }
    this.writing ??= this.writeAll();
  }

  /** Waits until every queued row is written or the database refused (rows kept). */
  async drain(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private async writeAll(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          await this.store.insertRuns(batch);
          this.warned = false;
        } catch (error) {
          this.pending.unshift(...batch); // tried again with the next batch's rows
          if (!this.warned)
            this.log.warn(
              { err: error },
              `run history: cannot write ${batch.length} row(s) yet: ${(error as Error).message}`,
            );
          this.warned = true;
          return;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
