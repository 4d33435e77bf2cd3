// Run history as the beat writes it: the rows of each batch (runs sent, runs skipped by
// the starting deadline) go to dbbeat_run in the background, beside the sending and the
// recording of last_run_at; the rows queued while a write is in flight go in the next
// one, together. At most one write is in flight; a failed write keeps its rows for the
// next try, up to MAX_PENDING (history must never hold the beat's memory hostage).
import { BatchWriter } from '../batch-writer.js';
import type { BeatStore, RunEntry } from '../db/store.js';
import type { Logger } from './logger.js';

/** Rows kept for a retry while the database refuses them; beyond this the oldest are dropped. */
const MAX_PENDING = 200_000;

export class HistoryWriter {
  private readonly writer: BatchWriter<RunEntry>;
  /** A drain() is watching the writes in flight, to call onWriteEnded when they end. */
  private watching = false;

  constructor(
    store: Pick<BeatStore, 'insertRuns'>,
    log: Logger,
    /** Called when the writes in flight have ended (written, or failed with the rows kept). */
    private readonly onWriteEnded: () => void = () => undefined,
  ) {
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
    if (this.watching || !this.writer.busy) return;
    this.watching = true;
    void (async () => {
      // A write started while the last one ended is watched too: no end goes unreported.
      while (this.writer.busy) await this.writer.drain();
      this.watching = false;
      this.onWriteEnded();
    })();
  }

  /** True while a write is in flight. */
  get busy(): boolean {
    return this.writer.busy;
  }

  /** Rows waiting for the next write (not counting the one in flight). */
  get backlog(): number {
    return this.writer.size;
  }

  /** Waits until every queued row is written or the database refused (rows kept). */
  drain(): Promise<void> {
    return this.writer.drain();
  }
}
