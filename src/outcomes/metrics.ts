// The one place dbbeat's Prometheus metrics are defined (prom-client). Each Metrics owns a
// Registry of its own, not prom-client's global one, so two beats in one process (tests)
// never share or clash. The beat's events are turned into these calls by
// src/beat/beat-metrics.ts; outcome sources (events, result backend, LOST) call outcome()
// and runtime() themselves. Served as text by GET /metrics (src/http/routes-health.ts).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import { type AppliedOutcome, FINISHED_STATES, type RunState } from '../db/run-store.js';

export interface MetricsOptions {
  /**
   * Label runs sent with the periodic task's name as well as the queue (--metrics-per-task).
   * Off by default: one series per task is too many with 100k tasks. Default false.
   */
  perTask?: boolean;
  /** Add prom-client's process and Node.js metrics (process_*, nodejs_*). Default true. */
  processMetrics?: boolean;
}

/** How a run failed to go out: its message alone ('message'), or with its whole batch ('batch'). */
export type SendFailureKind = 'message' | 'batch';

/** Seconds; runs are due to the millisecond, a beat that lags shows in the upper buckets. */
const LATENESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];
/** Seconds; Celery tasks run from milliseconds to hours. */
const RUNTIME_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400];
/** Seconds from a change's write to the beat reading it (LISTEN/NOTIFY: ms; polling: --max-interval). */
const PICKUP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * dbbeat's metrics: counters and histograms the beat feeds as it works, gauges set on
 * change, and hooks run before each scrape (to probe the broker and the database).
 * Every method is cheap and synchronous; counters take a count, so a batch is one call.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Whether runs sent carry a `task` label (MetricsOptions.perTask). */
  readonly perTask: boolean;
  private readonly scrapeHooks: (() => Promise<void> | void)[] = [];

  private readonly sent: Counter<'queue' | 'task'>;
  private readonly duplicates: Counter;
  private readonly skipped: Counter;
  private readonly sendFailures: Counter<'kind'>;
  private readonly outcomes: Counter<'state'>;
  private readonly latenessSeconds: Histogram;
  private readonly runtimeSeconds: Histogram;
  private readonly pickupSeconds: Histogram;
  private readonly leaseRenewals: Counter<'result'>;
  private readonly loaded: Gauge;
  private readonly invalid: Gauge;
  private readonly failing: Gauge;
  private readonly isLeader: Gauge;
  private readonly brokerIsUp: Gauge;
  private readonly databaseIsUp: Gauge;

  constructor(options: MetricsOptions = {}) {
    this.perTask = options.perTask ?? false;
    const registers = [this.registry];
    this.sent = new Counter({
      name: 'dbbeat_runs_sent_total',
      help: 'Runs the broker accepted, by queue (and by periodic task name with --metrics-per-task)',
      labelNames: this.perTask ? ['queue', 'task'] : ['queue'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'dbbeat_runs_duplicate_total',
      help: 'Runs the broker dropped as already sent (Redis dedupe: a previous leader sent the same task id)',
      registers,
    });
    this.skipped = new Counter({
      name: 'dbbeat_runs_skipped_total',
      help: 'Runs skipped as later than --starting-deadline (recorded as SKIPPED)',
      registers,
    });
    this.sendFailures = new Counter({
      name: 'dbbeat_send_failures_total',
      help: 'Runs not sent: kind="message" failed alone (retried on its task\'s backoff), kind="batch" went back with a batch the broker did not take',
      labelNames: ['kind'],
      registers,
    });
    this.outcomes = new Counter({
      name: 'dbbeat_run_outcomes_total',
      help: 'Outcomes of runs learnt from Celery (events, result backend) or set by dbbeat (LOST), by state',
      labelNames: ['state'],
      registers,
    });
    this.latenessSeconds = new Histogram({
      name: 'dbbeat_run_lateness_seconds',
      help: 'Time a run was sent after its scheduled time (sent minus scheduled), seconds',
      buckets: LATENESS_BUCKETS,
      registers,
    });
    this.runtimeSeconds = new Histogram({
      name: 'dbbeat_run_runtime_seconds',
      help: "Runtime of finished runs as Celery reports it (the worker's runtime), seconds",
      buckets: RUNTIME_BUCKETS,
      registers,
    });
    this.pickupSeconds = new Histogram({
      name: 'dbbeat_change_pickup_seconds',
      help: "Time from a task or schedule change's write to the beat reading it (database clock), the oldest change of each pickup, seconds",
      buckets: PICKUP_BUCKETS,
      registers,
    });
    this.leaseRenewals = new Counter({
      name: 'dbbeat_lease_renewals_total',
      help: 'Leader lease renewals by this process while leader: result="ok", or "failed" (lost to another beat, or the database did not answer)',
      labelNames: ['result'],
      registers,
    });
    this.loaded = new Gauge({
      name: 'dbbeat_tasks_loaded',
      help: 'Enabled, valid periodic tasks scheduled by this beat (0 on a standby)',
      registers,
    });
    this.invalid = new Gauge({
      name: 'dbbeat_tasks_invalid',
      help: 'Enabled periodic tasks that cannot be scheduled (a bad schedule or field), as of the last load',
      registers,
    });
    this.failing = new Gauge({
      name: 'dbbeat_tasks_failing',
      help: 'Periodic tasks counted as failing (their last runs failed, or an expected run was LOST)',
      registers,
    });
    this.isLeader = new Gauge({
      name: 'dbbeat_leader',
      help: '1 while this process holds the leader lease, else 0',
      registers,
    });
    this.brokerIsUp = new Gauge({
      name: 'dbbeat_broker_up',
      help: 'Whether the broker answered a ping at the last scrape (1) or not (0)',
      registers,
    });
    this.databaseIsUp = new Gauge({
      name: 'dbbeat_database_up',
      help: 'Whether the database answered a query at the last scrape (1) or not (0)',
      registers,
    });
    // Series that exist from the start, so rate() and alerts see a 0 before the first event.
    this.sendFailures.inc({ kind: 'message' }, 0);
    this.sendFailures.inc({ kind: 'batch' }, 0);
    this.leaseRenewals.inc({ result: 'ok' }, 0);
    this.leaseRenewals.inc({ result: 'failed' }, 0);
    this.isLeader.set(0);
    // Event-loop delay sampled every 100 ms (prom-client's default, 10 ms, wakes an idle beat 100 times a second).
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
  }

  /** `n` runs of one queue (and, with perTask, of the periodic task `task`) the broker accepted. */
  runsSent(queue: string, n: number, task?: string): void {
    if (n <= 0) return;
    this.sent.inc(this.perTask ? { queue, task: task ?? '' } : { queue }, n);
  }

  /** `n` runs the broker dropped as already sent. */
  runsDuplicate(n: number): void {
    if (n > 0) this.duplicates.inc(n);
  }

  /** `n` runs skipped by the starting deadline. */
  runsSkipped(n: number): void {
    if (n > 0) this.skipped.inc(n);
  }

  /** `n` runs that failed to go out (see SendFailureKind). */
  sendFailed(kind: SendFailureKind, n: number): void {
    if (n > 0) this.sendFailures.inc({ kind }, n);
  }

  /** How late one run was sent: sent minus scheduled, seconds (negative counts as 0). */
  lateness(seconds: number): void {
    this.latenessSeconds.observe(seconds > 0 ? seconds : 0);
  }

  /** `n` runs reached `state` (each state change a source learnt counts once). */
  outcome(state: RunState, n = 1): void {
    if (n > 0) this.outcomes.inc({ state }, n);
  }

  /**
   * Counts what `RunStore.applyOutcomes` changed: each run that entered a new state counts
   * once under that state, and a run that entered a finished state with a runtime is
   * observed in the runtime histogram. Rows that only had empty times filled count nothing,
   * and updates for tasks dbbeat did not send never reach here (they change no row).
   */
  applied(runs: readonly AppliedOutcome[]): void {
    const byState = new Map<RunState, number>();
    for (const run of runs) {
      if (run.state === run.previous) continue;
      byState.set(run.state, (byState.get(run.state) ?? 0) + 1);
      if (run.runtime !== null && FINISHED_STATES.has(run.state)) this.runtime(run.runtime);
    }
    for (const [state, n] of byState) this.outcome(state, n);
  }

  /** A finished run's runtime, seconds (Celery's `runtime`). */
  runtime(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.runtimeSeconds.observe(seconds);
  }

  /** A pickup of changes whose oldest was written `seconds` before it was read. */
  changePickup(seconds: number): void {
    this.pickupSeconds.observe(seconds > 0 ? seconds : 0);
  }

  /** A lease renewal by the leader: held on (`ok`), or not. */
  leaseRenewal(ok: boolean): void {
    this.leaseRenewals.inc({ result: ok ? 'ok' : 'failed' });
  }

  /** Whether this process leads. */
  leader(leading: boolean): void {
    this.isLeader.set(leading ? 1 : 0);
  }

  tasksLoaded(n: number): void {
    this.loaded.set(n);
  }

  invalidTasks(n: number): void {
    this.invalid.set(n);
  }

  failingTasks(n: number): void {
    this.failing.set(n);
  }

  brokerUp(up: boolean): void {
    this.brokerIsUp.set(up ? 1 : 0);
  }

  databaseUp(up: boolean): void {
    this.databaseIsUp.set(up ? 1 : 0);
  }

  /**
   * Runs `hook` before every scrape (in order of registration), e.g. to set gauges from
   * live state or to probe the broker. A hook that throws fails that scrape.
   */
  beforeScrape(hook: () => Promise<void> | void): void {
    this.scrapeHooks.push(hook);
  }

  /** The Content-Type of `text()` (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus text format, after the scrape hooks ran. */
  async text(): Promise<string> {
    for (const hook of this.scrapeHooks) await hook();
    return this.registry.metrics();
  }
}
