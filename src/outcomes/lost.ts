// LOST: a run that got no outcome within --lost-after seconds of being sent (still SENT,
// RECEIVED, STARTED or RETRY) is marked LOST by the leader, in the background: its worker
// died, its message was dropped, or no worker consumes its queue. A real outcome that
// comes later (a long task finishing, the result backend) overwrites LOST
// (RunStore.applyOutcomes).
import type { RunStore } from '../db/run-store.js';

/** Runs marked per statement. */
const CHUNK = 1000;

interface LostLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface LostSweeperOptions {
  /** How long a run may go without an outcome, ms (--lost-after seconds × 1000). */
  lostAfterMs: number;
  /** The clock sent_at was written by (the beat's: the database's), epoch ms. Default Date.now. */
  now?: () => number;
  /** How often to sweep, ms. Default a quarter of lostAfterMs, within 1 s … 60 s. */
  everyMs?: number;
  /** Called with the number of runs marked LOST by each sweep that marked some (metrics). */
  onLost?: (count: number) => void;
}

/** Marks runs LOST while `isLeader()` says so (one beat writes, not every standby). */
export class LostSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly now: () => number;
  readonly everyMs: number;

  constructor(
    private readonly store: Pick<RunStore, 'openRuns' | 'applyOutcomes'>,
    private readonly options: LostSweeperOptions,
    private readonly log: LostLogger,
    private readonly isLeader: () => boolean,
  ) {
    this.now = options.now ?? Date.now;
    this.everyMs = options.everyMs ?? Math.min(60_000, Math.max(1000, options.lostAfterMs / 4));
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        if (this.stopped) return;
        if (this.isLeader()) {
          this.running = this.sweepOnce().catch((error: unknown) =>
            this.log.warn({ err: error }, `LOST runs: sweep failed (${(error as Error).message}); trying again later`),
          );
        }
        void Promise.resolve(this.running).then(() => !this.stopped && tick());
      }, this.everyMs);
      this.timer.unref();
    };
    tick();
  }

  /**
   * Marks every run sent more than lostAfterMs before now() and still open as LOST, in
   * chunks, oldest first. Returns how many were marked.
   */
  async sweepOnce(): Promise<number> {
    const now = this.now();
    const sentBefore = now - this.options.lostAfterMs;
    let total = 0;
    for (;;) {
      const open = await this.store.openRuns(sentBefore, CHUNK);
      if (open.length === 0) break;
      const marked = (
        await this.store.applyOutcomes(open.map((run) => ({ taskId: run.taskId, state: 'LOST', at: now })))
      ).length;
      total += marked;
      // marked === 0: an outcome won the race for every one of them; they are no longer open.
      if (open.length < CHUNK || marked === 0 || this.stopped) break;
    }
    if (total > 0) {
      this.log.info(
        { lost: total, lostAfterS: this.options.lostAfterMs / 1000 },
        `LOST runs: ${total} run(s) had no outcome within ${this.options.lostAfterMs / 1000} s`,
      );
      this.options.onLost?.(total);
    }
    return total;
  }

  /** Stops sweeping; waits for a sweep in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
