// Alerts as data: which periodic tasks are failing, read from run history. A task is failing
// when its last K decided runs (SUCCESS, FAILURE, REVOKED, REJECTED, LOST) were all FAILURE,
// or when its last decided run is LOST (no outcome came in time). K is `failingAfter`
// (--failing-after, DBBEAT_FAILING_AFTER, default 3). Disabled tasks are never failing:
// disabling a task silences it. There is no mailer: the API, the page and the metric
// dbbeat_tasks_failing show it, and an alerting system of the user's reads them.
import type { FailingTask, RunHistory } from '../db/run-store.js';
import type { Metrics } from './metrics.js';

export type { FailingTask } from '../db/run-store.js';

/** K when none is configured. */
export const DEFAULT_FAILING_AFTER = 3;

export interface FailingCheckOptions {
  /** K: this many decided runs in a row must have failed. */
  lastK: number;
  /**
   * How long the whole list (`all`, `count`) is reused, in ms: it reads every enabled task's
   * last runs (an index probe per task on PostgreSQL, a window over the decided runs on
   * MySQL), so scrapes and page refreshes share one reading. Default 5000; 0 reads each time.
   */
  cacheMs?: number;
  /** The clock for the cache, epoch ms (tests). Default Date.now. */
  now?: () => number;
}

/** The failing tasks of one database, for the API, the page and the metrics. */
export class FailingCheck {
  readonly lastK: number;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private cached: { at: number; tasks: Promise<FailingTask[]> } | undefined;

  constructor(
    private readonly store: Pick<RunHistory, 'failingTasks'>,
    options: FailingCheckOptions,
  ) {
    this.lastK = options.lastK;
    this.cacheMs = options.cacheMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Every failing enabled task, by name; at most `cacheMs` old (concurrent callers share one read). */
  all(): Promise<FailingTask[]> {
    const at = this.now();
    if (this.cached === undefined || at - this.cached.at >= this.cacheMs || at < this.cached.at) {
      const tasks = this.store.failingTasks({ lastK: this.lastK });
      this.cached = { at, tasks };
      // A failed read is not kept: the next caller asks again.
      tasks.catch(() => {
        if (this.cached?.tasks === tasks) this.cached = undefined;
      });
    }
    return this.cached.tasks;
  }

  /** How many enabled tasks are failing: the value of the dbbeat_tasks_failing gauge. */
  async count(): Promise<number> {
    return (await this.all()).length;
  }

  /** Which of these tasks are failing, read now (a page of the task list): id → its failing entry. */
  async of(periodicTaskIds: readonly number[]): Promise<Map<number, FailingTask>> {
    const tasks = await this.store.failingTasks({ lastK: this.lastK, periodicTaskIds });
    return new Map(tasks.map((task) => [task.periodicTaskId, task]));
  }
}

/**
 * Keeps the dbbeat_tasks_failing gauge current: counts the failing tasks before each scrape
 * (through the check's cache). A failed read leaves the gauge at its last value.
 */
export function gaugeFailingTasks(metrics: Pick<Metrics, 'beforeScrape' | 'failingTasks'>, check: FailingCheck): void {
  metrics.beforeScrape(async () => {
    const count = await check.count().catch(() => undefined);
    if (count !== undefined) metrics.failingTasks(count);
  });
}
