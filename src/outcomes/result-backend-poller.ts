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
/** The same failure, repeated poll after poll, is logged again at most this often (ms). */
export const REPEATED_FAILURE_LOG_MS = 10 * 60_000;
/** Open runs read per poll (by id from the cursor, as openRuns returns them). */
const DEFAULT_MAX_RUNS = 10_000;
/** Outcomes per applyOutcomes call (one statement each). */
const APPLY_BATCH = 1000;

interface PollLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
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
  /** The failure the last poll ended in, when it was logged, and how many polls failed since. */
  private failing: { message: string; loggedAt: number; since: number } | undefined;

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
        if (this.isLeader()) this.running = this.poll();
        void Promise.resolve(this.running).then(() => !this.stopped && tick());
      }, this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  /**
   * One poll whose failure is logged, not thrown: a new failure at once, the same failure
   * again only every REPEATED_FAILURE_LOG_MS (with how many polls it failed since), so a
   * backend that stays unusable (its table missing) does not fill the log every few seconds;
   * the first poll that succeeds after failures says so.
   */
  async poll(): Promise<PollReport | undefined> {
    try {
      const report = await this.pollOnce();
      if (this.failing !== undefined) {
        (this.log.info ?? this.log.warn).call(
          this.log,
          { backend: this.backend.description },
          'result backend: reading outcomes again',
        );
        this.failing = undefined;
      }
      return report;
    } catch (error) {
      this.reportFailure(error);
      return undefined;
    }
  }

  private reportFailure(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const now = this.now();
    const failing = this.failing;
    if (failing !== undefined && failing.message === message) {
      failing.since += 1;
      if (now - failing.loggedAt < REPEATED_FAILURE_LOG_MS) return;
      this.log.warn(
        { err: error, backend: this.backend.description, failedPolls: failing.since },
        `result backend: still failing after ${failing.since} polls (${message}); trying every ${this.intervalMs} ms, logging this again in ${REPEATED_FAILURE_LOG_MS / 60_000} min`,
      );
      failing.loggedAt = now;
      return;
    }
    this.failing = { message, loggedAt: now, since: 1 };
    this.log.warn(
      { err: error, backend: this.backend.description },
      `result backend: reading outcomes failed (${message}); trying again every ${this.intervalMs} ms, logging the same failure again at most every ${REPEATED_FAILURE_LOG_MS / 60_000} min`,
    );
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
  log: PollLogger & Required<Pick<PollLogger, 'info'>>,
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
