// A background batch writer: items queue in memory and are written in batches, one write
// at a time, beside whatever produced them. The beat's run history (beat/history.ts) and
// the Celery events consumer (outcomes/events-consumer.ts) both write this way. It sits
// below both (it imports nothing of the project) so that imports still run one way.
//
// Invariants:
// - At most one write is in flight; items queued meanwhile go in the next batch.
// - A batch whose write fails goes back to the front of the queue, in order, and is
//   written again before anything queued after it.
// - The queue (not counting the batch in flight) holds at most maxPending items; beyond
//   that the oldest are dropped, so a database that is away cannot hold the process's memory.

/** Items appended with one push(...): well below the stack's limit on arguments. */
const PUSH_CHUNK = 8192;

/** Timers the writer sets (for the batching delay and the retry); a test passes fake ones. */
export interface BatchTimers {
  /** Calls `fire` after `ms` milliseconds; returns a function that cancels. */
  setTimer(ms: number, fire: () => void): () => void;
}

/** setTimeout and clearTimeout. */
export const systemTimers: BatchTimers = {
  setTimer(ms, fire) {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
};

/** What the writer reports when a write failed (for the caller's log line). */
export interface BatchFailure<T> {
  error: unknown;
  /** The batch that failed; it is queued again. */
  batch: readonly T[];
  /** Items queued after the failure, the failed batch included. */
  pending: number;
  /** Items dropped so far past maxPending, in the writer's whole life. */
  dropped: number;
  /** Failed writes in a row, this one included (1: the first since the last success). */
  failures: number;
}

export interface BatchWriterOptions<T> {
  /** Writes one batch; a rejection keeps the batch for the next try. */
  write: (batch: T[]) => Promise<void>;
  /** Items kept waiting while writes fail; beyond this the oldest are dropped. */
  maxPending: number;
  /** Most items in one write. Default: everything queued. */
  maxBatch?: number;
  /**
   * Longest wait before queued items are written, ms: items gather into batches until this
   * elapses or maxBatch are queued. Default: none, a write starts as soon as items are
   * queued and none is in flight.
   */
  flushEveryMs?: number;
  /** After a failed write, try again by itself after this many ms. Default: only on the next add() or flush(). */
  retryAfterMs?: number;
  /** Awaited before each round of writes (its rejection is ignored): something that must be written first. */
  beforeWrite?: () => Promise<void>;
  /** Called when items are dropped past maxPending, with how many. */
  onDropped?: (count: number) => void;
  /** Called after each failed write. */
  onFailed?: (failure: BatchFailure<T>) => void;
  /** Default: setTimeout. */
  timers?: BatchTimers;
}

/** Queues items and writes them in batches in the background; see the invariants above. */
export class BatchWriter<T> {
  private pending: T[] = [];
  /** The round of writes under way, if any. */
  private writing: Promise<void> | undefined;
  /** flush() was called while a round was under way: one more round after it, even if it failed. */
  private again = false;
  private cancelTimer: (() => void) | undefined;
  private failures = 0;
  private droppedTotal = 0;
  private readonly maxBatch: number;
  private readonly timers: BatchTimers;

  constructor(private readonly options: BatchWriterOptions<T>) {
    this.maxBatch = options.maxBatch ?? Infinity;
    this.timers = options.timers ?? systemTimers;
  }

  /** Items queued and not yet written (the batch in flight not counted). */
  get size(): number {
    return this.pending.length;
  }

  /** True while a write is in flight (or a round of them). */
  get busy(): boolean {
    return this.writing !== undefined;
  }

  /** Items dropped past maxPending so far. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Queues items; they are written now or after flushEveryMs (at once once maxBatch are queued). */
  add(items: readonly T[]): void {
    if (items.length === 0) return;
    if (this.pending.length === 0) this.pending = items.slice();
    // push(...items) a chunk at a time: one spread of a very large array overflows the stack.
    else for (let at = 0; at < items.length; at += PUSH_CHUNK) this.pending.push(...items.slice(at, at + PUSH_CHUNK));
    this.trim();
    if (this.options.flushEveryMs === undefined || this.pending.length >= this.maxBatch) this.start();
    else this.arm(this.options.flushEveryMs);
  }

  /**
   * Writes what is queued now, after the write in flight if there is one; resolves once it
   * is written or its write failed (the items kept).
   */
  flush(): Promise<void> {
    this.disarm();
    if (this.writing !== undefined) this.again = true;
    else this.start();
    return this.drain();
  }

  /** Waits until no write is in flight (what failed stays queued). */
  async drain(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private start(): void {
    this.writing ??= this.writeRounds();
  }

  private async writeRounds(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.writeAll();
      } while (this.again);
    } finally {
      this.writing = undefined;
    }
  }

  /** Writes batches until the queue is empty or a write fails. */
  private async writeAll(): Promise<void> {
    if (this.pending.length > 0) await this.options.beforeWrite?.().catch(() => undefined);
    while (this.pending.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.options.write(batch);
        this.failures = 0;
      } catch (error) {
        this.pending = batch.concat(this.pending); // in order, before what came meanwhile
        this.trim();
        this.failures += 1;
        this.options.onFailed?.({
          error,
          batch,
          pending: this.pending.length,
          dropped: this.droppedTotal,
          failures: this.failures,
        });
        if (this.options.retryAfterMs !== undefined) this.arm(this.options.retryAfterMs);
        return;
      }
    }
  }

  private takeBatch(): T[] {
    if (this.pending.length <= this.maxBatch) {
      const batch = this.pending;
      this.pending = [];
      return batch;
    }
    return this.pending.splice(0, this.maxBatch);
  }

  /** Drops the oldest items past maxPending. */
  private trim(): void {
    const excess = this.pending.length - this.options.maxPending;
    if (excess <= 0) return;
    this.pending.splice(0, excess);
    this.droppedTotal += excess;
    this.options.onDropped?.(excess);
  }

  /** Sets the timer that flushes, unless one is set already. */
  private arm(ms: number): void {
    this.cancelTimer ??= this.timers.setTimer(ms, () => {
      this.cancelTimer = undefined;
      void this.flush();
    });
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}
