// Run history as the beat writes it: the rows of each batch (runs sent, runs skipped by
// the starting deadline) go to dbbeat_run in one INSERT, in the background, beside the
// recording of last_run_at. At most one write is in flight; a failed write keeps its rows
// for the next try, up to MAX_PENDING (history must never hold the beat's memory hostage).
import { BatchWriter } from '../batch-writer.js';
import type { BeatStore, RunEntry } from '../db/store.js';
import type { Logger } from './logger.js';

/** Rows kept for a retry while the database refuses them; beyond this the oldest are dropped. */
const MAX_PENDING = 200_000;

export class HistoryWriter {
  private readonly writer: BatchWriter<RunEntry>;

  constructor(store: Pick<BeatStore, 'insertRuns'>, log: Logger) {
    // A write starts as soon as rows come and none is in flight; a failed one is tried
    // again with the next batch's rows (no timer: the beat sends again soon enough).
    this.writer = new BatchWriter<RunEntry>({
      write: (batch) => store.insertRuns(batch),
      maxPending: MAX_PENDING,
      onDropped: (dropped) =>
        log.warn({ dropped }, `run history: dropped ${dropped} row(s) the database would not take`),
      onFailed: ({ error, batch, failures }) => {
        if (failures === 1)
          log.warn({ err: error }, `run history: cannot write ${batch.length} row(s) yet: ${(error as Error).message}`);
      },
    });
  }

  /** Queues rows and starts writing them unless a write runs already (it takes them next). */
  add(entries: readonly RunEntry[]): void {
    this.writer.add(entries);
  }

  /** Waits until every queued row is written or the database refused (rows kept). */
  drain(): Promise<void> {
    return this.writer.drain();
  }
}
