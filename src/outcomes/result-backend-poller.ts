// The result-backend poll: on the leader, every few seconds, the runs still waiting for an
// outcome are looked up in Celery's result backend and what it holds is written to
// dbbeat_run. Works with the workers' events off; combines with --events (the store's
// state rules keep whichever outcome is further along).
import type { AppliedOutcome, OutcomeUpdate, RunStore } from '../db/run-store.js';
import type { ResultBackend } from './result-backend.js';
import { outcomeFromMeta } from './result-backend-meta.js';
import { openResultBackend } from './result-backend-open.js';

/** Default seconds between polls. */
export const DEFAULT_RESULT_POLL_SECONDS = 5;
/** Open runs read per poll (by id from the cursor, as openRuns returns them). */
const DEFAULT_MAX_RUNS = 10_000;
/** Outcomes per applyOutcomes call (one statement each). */
const APPLY_BATCH = 1000;

interface PollLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ResultPollerOptions {
  /** Between polls, ms. Default 5000. */
  intervalMs?: number;
  /** Open runs read per poll. Default 10,000. */
  maxRuns?: number;
  /** Now, epoch ms. Default Date.now. */
  now?: () => number;
  /** Called with the runs each poll changed, when it changed some (metrics). */
  onApplied?: (runs: readonly AppliedOutcome[]) => void;
}

/** What one poll did. */
export interface PollReport {
  /** Open runs looked up. */
  asked: number;
  /** Of those, the ones the backend had something new for. */
  found: number;
  /** dbbeat_run rows changed. */
  changed: number;
}

/**
 * Polls a result backend for the outcomes of open runs while `isLeader()` says so. A failed
 * poll (backend or database down) is logged and tried again at the next interval: it never
 * stops the beat.
 */
export class ResultBackendPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly maxRuns: number;
  private readonly now: () => number;
  /** The last run id read by the previous poll (0: start from the oldest open run). */
  private afterId = 0;

  constructor(
    private readonly store: Pick<RunStore, 'openRuns' | 'applyOutcomes'>,
    private readonly backend: ResultBackend,
    private readonly log: PollLogger,
    private readonly isLeader: () => boolean,
    private readonly options: ResultPollerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEFAULT_RESULT_POLL_SECONDS * 1000;
    this.maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
    this.now = options.now ?? Date.now;
  }

  /** Polls every intervalMs from now on (timers unref'd: they keep no process alive). */
  start(): void {
    const tick = (): void => {
      this.timer = setTimeout(() => {
        if (this.stopped) return;
        if (this.isLeader()) {
          this.running = this.pollOnce().catch((error: unknown) =>
            this.log.warn(
              { err: error, backend: this.backend.description },
              `result backend: reading outcomes failed (${(error as Error).message}); trying again in ${this.intervalMs} ms`,
            ),
          );
        }
        void Promise.resolve(this.running).then(() => !this.stopped && tick());
      }, this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  /**
   * One poll: up to maxRuns open runs sent before now, their stored outcomes read in batches,
   * and each one that says more than the run's state applied to dbbeat_run.
   */
  async pollOnce(): Promise<PollReport> {
    const now = this.now();
    const runs = await this.store.openRuns(now, this.maxRuns, this.afterId);
    // Keyset cursor: the next poll goes on after the last run read, and wraps to the oldest
    // after a short page, so runs that never get an outcome cannot starve newer ones.
    this.afterId = runs.length < this.maxRuns ? 0 : runs[runs.length - 1]!.id;
    if (runs.length === 0) return { asked: 0, found: 0, changed: 0 };
    const stored = await this.backend.getMany(runs.map((r) => r.taskId));
    const updates: OutcomeUpdate[] = [];
    for (const run of runs) {
      const meta = stored.get(run.taskId);
      const update = meta === undefined ? null : outcomeFromMeta(meta, now);
      // An open state the run already has would only rewrite the row every poll.
      if (update !== null && update.state !== run.state) updates.push(update);
    }
    let changed = 0;
    for (let start = 0; start < updates.length; start += APPLY_BATCH) {
      const applied = await this.store.applyOutcomes(updates.slice(start, start + APPLY_BATCH));
      changed += applied.length;
      if (applied.length > 0) this.options.onApplied?.(applied);
    }
    if (updates.length > 0) {
      this.log.debug(
        { asked: runs.length, found: updates.length, changed },
        `result backend: ${updates.length} outcome(s) for ${runs.length} open run(s)`,
      );
    }
    return { asked: runs.length, found: updates.length, changed };
  }

  /** Stops polling; waits for a poll in flight. Does not close the backend. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

/** The result backend to poll (the resolved --result-backend, --result-backend-interval). */
export interface ResultBackendSettings {
  /** Celery's result_backend URL. */
  url: string;
  /** Time between polls, ms. */
  intervalMs: number;
}

/** What startResultBackendPoller needs of the resolved settings. */
export interface ResultPollerSettings {
  /** null: no result backend configured. */
  resultBackend: ResultBackendSettings | null;
  /** dbbeat's own database, where the `django-db` backend reads; undefined: the embedded one. */
  databaseUrl: string | undefined;
  /** Run history: nothing to fill when it is off. */
  history: { enabled: boolean };
}

/**
 * Starts polling the configured result backend (`resultBackend` of the resolved settings)
 * on behalf of a beat; none without one, or with run history off (there is nothing to fill).
 * @returns stop(): stops polling and closes the backend's connections
 */
export function startResultBackendPoller(
  settings: ResultPollerSettings,
  store: Pick<RunStore, 'openRuns' | 'applyOutcomes'>,
  log: PollLogger & { info(obj: object, msg?: string): void },
  isLeader: () => boolean,
  options: Omit<ResultPollerOptions, 'intervalMs'> = {},
): { stop(): Promise<void> } | undefined {
  const config = settings.resultBackend;
  if (config === null) return undefined;
  if (!settings.history.enabled) {
    log.warn({}, 'result backend: ignored, run history is off (--no-history)');
    return undefined;
  }
  const backend = openResultBackend(config.url, { databaseUrl: settings.databaseUrl });
  const poller = new ResultBackendPoller(store, backend, log, isLeader, { ...options, intervalMs: config.intervalMs });
  poller.start();
  log.info(
    { backend: backend.description, intervalMs: config.intervalMs },
    `result backend: reading outcomes from ${backend.description}`,
  );
  return {
    async stop() {
      await poller.stop();
      await backend.close().catch(() => undefined);
    },
  };
}
