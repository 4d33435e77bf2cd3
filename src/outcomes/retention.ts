// Retention of run history: rows older than --history-days or beyond the row cap are
// deleted in the background, a chunk at a time, by the leader only.
import type { RunStore } from '../db/run-store.js';

/** Rows deleted per statement: short transactions, no long lock on the history table. */
const CHUNK = 5_000;
/** How often the history is pruned, ms. */
export const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** The first prune after start, ms: not in the middle of the first full load. */
const FIRST_PRUNE_MS = 30 * 1000;

/** Run history settings (the resolved --history, --history-days, --history-max-rows). */
export interface HistorySettings {
  /** false: no dbbeat_run rows are written, and none pruned. */
  enabled: boolean;
  /** Days of history kept. */
  days: number;
  /** Most rows kept; the oldest go first. */
  maxRows: number;
}

interface PruneLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Prunes dbbeat_run every PRUNE_EVERY_MS while `isLeader()` says so (one beat prunes, not
 * every standby). A failed prune is logged and tried again next time: it never stops the beat.
 */
export class HistoryPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly store: RunStore,
    private readonly settings: HistorySettings,
    private readonly log: PruneLogger,
    private readonly isLeader: () => boolean,
  ) {}

  start(): void {
    if (!this.settings.enabled) return;
    const tick = (delay: number) => {
      this.timer = setTimeout(() => {
        if (this.stopped) return;
        if (this.isLeader()) {
          this.running = this.pruneOnce().catch((error: unknown) =>
            this.log.warn(
              { err: error },
              `run history: pruning failed (${(error as Error).message}); trying again later`,
            ),
          );
        }
        void Promise.resolve(this.running).then(() => !this.stopped && tick(PRUNE_EVERY_MS));
      }, delay);
      this.timer.unref();
    };
    tick(FIRST_PRUNE_MS);
  }

  /** Deletes what is past the retention, in chunks. Returns the rows deleted. */
  async pruneOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.store.pruneRuns(this.settings.days, this.settings.maxRows, CHUNK);
      total += deleted;
      if (deleted < CHUNK || this.stopped) break;
    }
    if (total > 0) this.log.info({ deleted: total }, `run history: pruned ${total} row(s)`);
    return total;
  }

  /** Stops pruning; waits for a prune in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
