import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatch.js';
import type { Lease } from './lease.js';
import type { Loader } from './loader.js';
import type { Recorder } from './recorder.js';
import type { LeaseRenewal } from './renewal.js';
import type { TaskTable } from './task-table.js';

/**
 * One step's sending: the runs due now, batch by batch, while the lease is surely held
 * and no renewal is due. Two batches overlap: the next one is checked and built while
 * the broker takes the previous one. A round ends once the broker has answered for its
 * last batch: the records and history rows of its runs are then queued (Recorder,
 * HistoryWriter) and written in the background, so the next round never waits for the
 * database's write time. Each run is still recorded only after the broker accepted it.
 */
export class SendRound {
  /** The round under way; resolved when none is. */
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly table: TaskTable,
    private readonly loader: Loader,
    private readonly dispatcher: Dispatcher,
    private readonly recorder: Recorder,
    private readonly lease: Pick<Lease, 'token'>,
    private readonly renewal: LeaseRenewal,
    private readonly clock: Clock,
    private readonly batchSize: number,
  ) {}

  /**
   * Resolves once the round under way, if any, has handed every run it sent to the
   * recorder and the history writer (their writes may still be in flight).
   */
  handedOver(): Promise<void> {
    return this.current;
  }

  /**
   * Sends what is due now. Stops early when `stopping()` says so, the lease is not surely
   * held, a renewal falls due, or a background records write failed (the beat's next
   * step reports it). A batch the broker did not take goes back to its slots, and its
   * error is thrown once the other batch in flight has finished.
   */
  async run(stopping: () => boolean): Promise<void> {
    let inFlight: Promise<void> | undefined;
    let end!: () => void;
    this.current = new Promise((resolve) => (end = resolve));
    try {
      while (!stopping() && !this.renewal.due) {
        if (this.recorder.failed) break; // surfaced by the next step
        const token = this.lease.token;
        if (token === null) break;
        const ids = this.table.queue.popDue(this.clock.now(), this.batchSize);
        if (ids.length === 0) break;
        const batch = await this.loader.reread(ids);
        const sending = this.dispatcher.send(batch, token, this.loader.installationId);
        sending.catch(() => undefined); // awaited on the next turn or below; a failure surfaces there
        const previous = inFlight;
        inFlight = sending;
        await previous;
      }
      await this.renewal.during(inFlight);
      await inFlight;
    } finally {
      // After a failure the other batch still finishes (it requeues or records its own runs).
      await inFlight?.catch(() => undefined);
      end(); // outcome writers wait for this (Beat.historyWritten), then for the history's write
    }
  }
}
