import { performance } from 'node:perf_hooks';

import type { TaskQueue } from './task-table.js';

/** How far past the next run the runs are prepared, ms. */
const AHEAD_MS = 2_000;
/**
 * How soon the next run must be for its runs to be prepared, ms: a spec prepared much
 * earlier would be held through the whole quiet spell (a burst whose tasks run hourly
 * would keep 20,000 specs and templates for the hour).
 */
const LEAD_MS = 10_000;
/** At most this many runs are prepared for one horizon (memory: a SendSpec and a template each). */
const AHEAD_RUNS = 20_000;
/** The least sleep worth using for it, ms: under a steady load the loop never sleeps this long. */
export const PREPARE_WHEN_IDLE_MS = 50;
/** Work per slice, ms of real time: a slice never holds back a run falling due or a change. */
const SLICE_MS = 5;

/**
 * Uses the beat's quiet spells to prepare the runs falling due next (Dispatcher.prepare):
 * each task version's SendSpec, route and broker template are otherwise built on its
 * first sends, which after a quiet spell come all at once (a crontab burst at the top of
 * the hour, the first minute of a steady load) and then cost the sending its time, with
 * the GC of everything they allocate. Prepared ahead, those runs are only filled in.
 */
export class PrepareAhead {
  /** Task ids collected and not prepared yet. */
  private pending: number[] = [];
  /** Runs due at or before this (epoch ms) were collected already. */
  private collectedUntil = -Infinity;

  constructor(
    private readonly queue: Pick<TaskQueue, 'dueBetween'>,
    private readonly prepare: (id: number) => void,
  ) {}

  /** Forgets what was collected (after a full load, whose tasks are all new). */
  reset(): void {
    this.pending = [];
    this.collectedUntil = -Infinity;
  }

  /**
   * Prepares one slice of the runs due by `nextRun` + AHEAD_MS (epoch ms; undefined: none),
   * once the next run is at most LEAD_MS after `now` (epoch ms).
   * @returns true when it did some work (the loop then looks again before sleeping)
   */
  work(nextRun: number | undefined, now: number): boolean {
    if (this.pending.length === 0) {
      if (nextRun === undefined || nextRun - now > LEAD_MS) return false;
      const until = nextRun + AHEAD_MS;
      if (until <= this.collectedUntil) return false;
      this.pending = this.queue.dueBetween(this.collectedUntil, until, AHEAD_RUNS);
      this.collectedUntil = until;
      if (this.pending.length === 0) return false;
    }
    const endAt = performance.now() + SLICE_MS;
    do this.prepare(this.pending.pop()!);
    while (this.pending.length > 0 && performance.now() < endAt);
    return true;
  }
}
