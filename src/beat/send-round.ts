import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatch.js';
import type { Lease } from './lease.js';
import type { Loader } from './loader.js';
import type { Recorder } from './recorder.js';
import type { LeaseRenewal } from './renewal.js';
import type { TaskTable } from './task-table.js';

/** The least time between two batches that are not full (SendRound.nextBatchAt), ms. */
export const BATCH_WINDOW_MS = 10;

/**
 * One step's sending: the runs due now, batch by batch, while the lease is surely held.
 * A renewal that falls due meanwhile is sent beside the batches, not waited for: on
 * PostgreSQL it queues behind the fence of the records write in flight (its row lock),
 * and the sending must not stop for that; the lease's local validity, counted from before
 * the last granted request, still bounds what is sent. Two batches overlap: the next one is checked and built while
 * the broker takes the previous one. A round ends once the broker has answered for its
 * last batch: the records and history rows of its runs are then queued (Recorder,
 * HistoryWriter) and written in the background, so the next round never waits for the
 * database's write time. Each run is still recorded only after the broker accepted it.
 */
export class SendRound {
  /** The round under way; resolved when none is. */
  private current: Promise<void> = Promise.resolve();
  /** When the last batch was popped (monotonic ms), and whether it was a full one. */
  private lastBatchAt = -Infinity;
  private lastBatchFull = false;
  /** The last batch came within the window of the one before it: batches are a stream. */
  private streaming = false;

  constructor(
    private readonly table: TaskTable,
    private readonly loader: Loader,
    private readonly dispatcher: Dispatcher,
    private readonly recorder: Recorder,
    private readonly lease: Pick<Lease, 'token'>,
    private readonly renewal: LeaseRenewal,
    private readonly clock: Clock,
    private readonly batchSize: number,
    /** The least time between two batches that are not full, ms (see nextBatchAt). */
    private readonly batchWindowMs: number = BATCH_WINDOW_MS,
  ) {}

  /**
   * The earliest a next batch is popped (monotonic ms): while batches come as a stream
   * (each within two windows of the one before), one per window, unless the last was full.
   * Under a steady load, popping whatever fell due since the last batch made batches of
   * a few runs each, hundreds a second, each with its change-log read, its Redis call
   * and, behind it, its records and history writes: the socket writes and the wake-ups
   * of the database and Redis they cost took most of the beat's time on two cores.
   * Gathering a few milliseconds' worth into one batch adds at most that much lag; a
   * light load, whose batches are far apart, is not held back at all.
   */
  get nextBatchAt(): number {
    return this.streaming && !this.lastBatchFull ? this.lastBatchAt + this.batchWindowMs : -Infinity;
  }

  /**
   * Resolves once the round under way, if any, has handed every run it sent to the
   * recorder and the history writer (their writes may still be in flight).
   */
  handedOver(): Promise<void> {
    return this.current;
  }

  /**
   * Sends what is due now. Stops early when `stopping()` says so, the lease is not surely
   * held, a lease request has answered (the loop acts on it), or a background records write failed (the beat's next
   * step reports it). A batch the broker did not take goes back to its slots, and its
   * error is thrown once the other batch in flight has finished.
   */
  async run(stopping: () => boolean): Promise<void> {
    let inFlight: Promise<void> | undefined;
    let end!: () => void;
    this.current = new Promise((resolve) => (end = resolve));
    try {
      while (!stopping()) {
        if (this.recorder.failed) break; // surfaced by the next step
        if (this.renewal.answered) break; // taken by the next step (a refusal steps down)
        const token = this.lease.token;
        if (token === null) break;
        if (this.renewal.due) this.renewal.start();
        if (this.clock.monotonic() < this.nextBatchAt) break; // the loop sleeps until then
        const ids = this.table.queue.popDue(this.clock.now(), this.batchSize);
        if (ids.length === 0) break;
        const poppedAt = this.clock.monotonic();
        // Twice the window: a batch popped when the window ended (the timer a little late) still streams.
        this.streaming = poppedAt - this.lastBatchAt < 2 * this.batchWindowMs;
        this.lastBatchAt = poppedAt;
        this.lastBatchFull = ids.length === this.batchSize;
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
