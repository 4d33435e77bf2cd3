import { EventEmitter } from 'node:events';

import type { Broker } from '../broker/types.js';
import type { ResolvedConfig } from '../config.js';
import type { BeatStore } from '../db/store.js';
import { Backoff, type Clock, systemClock, Waker } from './clock.js';
import { Dispatcher } from './dispatch.js';
import type { BeatEvents, Emit } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { Lease } from './lease.js';
import { HistoryWriter } from './history.js';
import { Loader } from './loader.js';
import type { Logger } from './logger.js';
import { Recorder } from './recorder.js';
import { type SchemaRepair, SchemaWatch } from './schema-watch.js';
import { TaskFailures } from './task-failures.js';
import { TaskTable } from './task-table.js';

export type { BeatEvents } from './events.js';

const STANDBY_POLL_MS = 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;
const SCHEMA_RECHECK_AFTER_FAILURE_MS = 10_000;
/** How long a stopping beat keeps trying to record runs whose rows another transaction locks. */
const STOP_RECORD_WAIT_MS = 10_000;
const STOP_RECORD_RETRY_MS = 250;

/**
 * The beat: while it holds the lease, it keeps every enabled task's next run, sends
 * what is due in batches, and records each run after the broker accepted it.
 *
 * Everything happens in one async loop, so no two steps ever race: leadership, then
 * pending records, then changes, then due runs, then sleep until the earliest of the
 * next run, the next look at the database, or a change notification. The parts:
 * the Loader fills the task table, the Dispatcher sends what is due, the Recorder
 * writes it down.
 */
export class Beat extends EventEmitter<BeatEvents> {
  private readonly table = new TaskTable();
  private readonly lease: Lease;
  private readonly heartbeat: Heartbeat;
  private readonly recorder: Recorder;
  /** Writes run history (dbbeat_run); null when history is off. */
  private readonly history: HistoryWriter | null;
  /** The send round under way (sendDue up to its history write); resolved when none is. */
  private sendRound: Promise<void> = Promise.resolve();
  private readonly loader: Loader;
  private readonly dispatcher: Dispatcher;
  private readonly failures: TaskFailures;
  private readonly schema: SchemaWatch;
  /** False while an object the beat cannot work without is missing: it does not lead then. */
  private schemaUsable = true;
  private schemaCheckAt = 0;
  private schemaCheckedAt = 0;
  private readonly waker: Waker;
  private readonly backoff = new Backoff();
  private leader = false;
  private announcedStandby = false;
  private needFullLoad = true;
  private changesPending = false;
  private stopping = false;
  // When to renew, poll and prune: monotonic ms (clock.monotonic()), so that a step of
  // the wall clock delays none of them.
  private renewAt = 0;
  private pollAt = 0;
  private pruneAt = 0;
  private loop: Promise<void> | undefined;
  private stopListening: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: BeatStore,
    broker: Broker,
    private readonly log: Logger,
    private readonly options: ResolvedConfig,
    private readonly clock: Clock = systemClock,
    /** Re-creates missing schema objects; given when the beat may migrate. */
    repairSchema?: SchemaRepair,
  ) {
    super();
    this.schema = new SchemaWatch(store, log, repairSchema);
    // EventEmitter's emit, typed by BeatEvents (its own signature does not narrow a generic event).
    const emit = this.emit.bind(this) as unknown as Emit;
    this.waker = new Waker(clock);
    this.lease = new Lease(
      store,
      { name: options.leaseName, holder: options.holder, ttlSeconds: options.leaseSeconds },
      clock,
    );
    this.heartbeat = new Heartbeat(store, log, clock, options);
    this.recorder = new Recorder(store, this.lease, log, (reason) => this.stepDown(reason), clock);
    this.loader = new Loader(store, this.table, this.recorder, log, emit, clock, options.crontabTimezone);
    this.failures = new TaskFailures(log, emit);
    this.history = options.history.enabled ? new HistoryWriter(store, log) : null;
    this.dispatcher = new Dispatcher(
      broker,
      this.table,
      this.recorder,
      log,
      emit,
      clock,
      options,
      this.lease,
      this.failures,
      (reason) => this.stepDown(reason),
      this.history,
    );
  }

  /**
   * Resolves once every run sent so far has its history row written (or kept for a retry
   * after a failed write). For outcome writers: a worker's event can arrive before the beat
   * has even queued its run's row (RabbitMQ delivers to the worker before our publish
   * confirm returns), and an outcome applied to a row not yet there would be lost.
   */
  async historyWritten(): Promise<void> {
    await this.sendRound;
    await this.history?.drain();
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get scheduledTasks(): number {
    return this.table.size;
  }

  /** Enabled tasks left out as invalid, as of the last load or change. */
  get invalidTasks(): number {
    return this.loader.invalidCount;
  }

  /** Starts the loop. Listening for change notifications is best effort: polling covers it. */
  start(): void {
    this.loop = this.run();
    this.store
      .watchChanges(() => {
        this.changesPending = true;
        this.waker.wake();
      })
      .then((stop) => {
        if (this.stopping) void stop();
        else this.stopListening = stop;
      })
      .catch((error: unknown) =>
        this.log.warn({ err: error }, 'cannot listen for changes; polling every max-interval'),
      );
  }

  /** Finishes the batch in flight, records it, gives up the lease and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.waker.wake();
    await this.loop;
    await this.stopListening?.();
    if (this.leader) {
      await this.lease.release();
      this.log.info('stepped down: stopping');
    }
    this.leader = false;
    await this.heartbeat.remove();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
        this.backoff.reset();
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        const delay = this.backoff.next();
        this.log.error(
          { err, retryInMs: Math.round(delay) },
          `beat: ${err.message}; retrying in ${Math.round(delay)} ms`,
        );
        // A dropped table or function shows up as failing statements: look at once (at most every 10 s).
        if (this.clock.now() - this.schemaCheckedAt > SCHEMA_RECHECK_AFTER_FAILURE_MS) this.schemaCheckAt = 0;
        this.emit('failure', err);
        await this.waker.sleep(delay);
      }
    }
    // Runs the broker accepted before the stop are recorded while the lease still holds.
    await this.recorder.drain();
    await this.history?.drain();
    await this.recordBeforeStopping();
    if (this.leader) this.recorder.reportUnrecorded();
  }

  /**
   * Writes what is still pending before the beat exits. Records held by another
   * transaction's row lock are tried again (the lease renewed meanwhile) for up to
   * STOP_RECORD_WAIT_MS, so a short lock does not cost a re-send; a longer one is
   * reported and left to the next leader, whose re-send carries the same task ids.
   */
  private async recordBeforeStopping(): Promise<void> {
    const giveUpAt = this.clock.monotonic() + STOP_RECORD_WAIT_MS;
    let renewAt = this.clock.monotonic() + (this.options.leaseSeconds * 1000) / 3;
    while (this.leader && this.recorder.hasPending) {
      try {
        if (!this.lease.isHeld || this.clock.monotonic() >= renewAt) {
          if (!(await this.lease.tryAcquire())) return;
          renewAt = this.clock.monotonic() + (this.options.leaseSeconds * 1000) / 3;
        }
        await this.recorder.flush();
      } catch (error) {
        this.log.error({ err: error }, 'could not record the last runs');
        return;
      }
      if (!this.recorder.hasPending || this.clock.monotonic() >= giveUpAt) return;
      await new Promise<void>((resolve) => this.clock.setTimer(STOP_RECORD_RETRY_MS, resolve));
    }
  }

  private async step(): Promise<void> {
    if (this.clock.now() >= this.schemaCheckAt) await this.checkSchema();
    if (!this.schemaUsable) {
      await this.waker.sleep(Math.min(STANDBY_POLL_MS * 5, this.schemaCheckAt - this.clock.now()));
      return;
    }
    await this.keepLeadership();
    if (!this.leader) {
      await this.waker.sleep(STANDBY_POLL_MS);
      return;
    }
    if (this.needFullLoad) {
      await this.loader.loadAll();
      this.needFullLoad = false;
      this.pollAt = this.clock.monotonic() + this.options.maxIntervalMs;
    }
    if (this.recorder.hasPending) await this.recorder.flush();
    if (this.changesPending || this.clock.monotonic() >= this.pollAt) {
      this.changesPending = false;
      this.pollAt = this.clock.monotonic() + this.options.maxIntervalMs;
      await this.loader.applyChanges();
    }
    await this.sendDue();
    if (this.clock.monotonic() >= this.pruneAt) {
      this.pruneAt = this.clock.monotonic() + PRUNE_EVERY_MS;
      await this.loader.prune();
    }
    const nextRun = this.table.queue.peekTime();
    const now = this.clock.now();
    const monotonic = this.clock.monotonic();
    const sleepMs = Math.min((nextRun ?? Infinity) - now, this.pollAt - monotonic, this.renewAt - monotonic);
    if (this.stopping) return;
    this.emit('idle', { wakeAt: now + sleepMs, nextRunAt: nextRun ?? null });
    await this.waker.sleep(sleepMs);
  }

  /**
   * Sends due runs batch by batch, as long as the lease is surely held. Two batches
   * overlap: the next one is checked and built while the broker takes the previous one
   * (each is still recorded only after the broker accepted it).
   */
  private async sendDue(): Promise<void> {
    let inFlight: Promise<void> | undefined;
    let endRound!: () => void;
    this.sendRound = new Promise((resolve) => (endRound = resolve));
    try {
      while (!this.stopping && this.clock.monotonic() < this.renewAt) {
        if (this.recorder.failed) break; // surfaced by settle() below
        const token = this.lease.token;
        if (token === null) break;
        const ids = this.table.queue.popDue(this.clock.now(), this.options.batchSize);
        if (ids.length === 0) break;
        const batch = await this.loader.reread(ids);
        const sending = this.dispatcher.send(batch, token, this.loader.installationId);
        sending.catch(() => undefined); // awaited on the next turn or below; a failure surfaces there
        const previous = inFlight;
        inFlight = sending;
        await previous;
      }
      await this.renewingUntil(inFlight);
      await inFlight;
    } finally {
      try {
        // After a failure the other batch still finishes (it requeues or records its own runs).
        await inFlight?.catch(() => undefined);
        // Beside the records' write; a failed one keeps its rows for the next batch.
        const history = this.history?.drain();
        await this.renewingUntil(history);
        await history;
      } finally {
        endRound(); // outcome writers wait for this (historyWritten), not for the records' write
      }
      const settled = this.recorder.settle();
      await this.renewingUntil(settled);
      await settled;
    }
  }

  /**
   * Waits for `work` (the last batch, the records' write), renewing the lease whenever a
   * renewal falls due meanwhile. On a loaded machine or a slow database, the writes of a
   * burst can outlast the lease's remaining time (2/3 of its time to live): without this,
   * the fenced write of runs already sent is refused, the beat steps down and loads every
   * task again. Renews only a lease still surely held, under the same token; never throws
   * (a failed renewal leaves the lease to run out, and the next step reports it).
   */
  private async renewingUntil(work: Promise<unknown> | undefined): Promise<void> {
    if (work === undefined) return;
    let done = false;
    const finished = work.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      const wait = this.renewAt - this.clock.monotonic();
      if (wait > 0) {
        let cancel: (() => void) | undefined;
        await Promise.race([finished, new Promise<void>((resolve) => (cancel = this.clock.setTimer(wait, resolve)))]);
        cancel?.();
        continue;
      }
      const token = this.lease.token;
      if (token === null) return;
      try {
        if (!(await this.lease.tryAcquire()) || this.lease.token !== token) return;
      } catch {
        return;
      }
      this.renewAt = this.clock.monotonic() + (this.options.leaseSeconds * 1000) / 3;
    }
  }

  /** Renews the lease a few times per time to live; takes it when it lapsed. */
  private async keepLeadership(): Promise<void> {
    if (this.leader && this.clock.monotonic() < this.renewAt && this.lease.isHeld) return;
    let held: boolean;
    const wasLeader = this.leader;
    try {
      held = await this.lease.tryAcquire();
    } catch (error) {
      this.emit('lease', { held: false, wasLeader, error: error instanceof Error ? error : new Error(String(error)) });
      if (this.leader && !this.lease.isHeld) this.stepDown('the lease could not be renewed');
      throw error;
    }
    this.emit('lease', { held, wasLeader });
    await this.heartbeat.beat(held ? 'leader' : 'standby');
    this.renewAt = this.clock.monotonic() + (this.options.leaseSeconds * 1000) / 3;
    if (held && !this.leader) {
      this.leader = true;
      this.announcedStandby = false;
      this.needFullLoad = true;
      this.log.info({ token: this.lease.token }, 'became leader');
      this.emit('leader', { token: this.lease.token ?? '' });
    } else if (!held && this.leader) {
      this.stepDown('another beat holds the lease');
    } else if (!held && !this.announcedStandby) {
      this.announcedStandby = true;
      this.log.info('standing by: another beat is the leader');
      this.emit('ready', { role: 'standby', tasks: 0, invalid: 0 });
    }
  }

  /** Checks dbbeat's objects; without one it cannot work without, gives up the lease and waits. */
  private async checkSchema(): Promise<void> {
    const { usable, repaired } = await this.schema.check();
    // A repaired change log starts its ids anew: read everything again.
    if (repaired) this.needFullLoad = true;
    const now = this.clock.now();
    this.schemaCheckedAt = now;
    // While unusable, look again soon: someone is expected to run dbbeat migrate.
    this.schemaCheckAt =
      now + (usable ? this.options.schemaCheckIntervalMs : Math.min(this.options.schemaCheckIntervalMs, 5000));
    if (usable === this.schemaUsable) return;
    this.schemaUsable = usable;
    if (!usable && this.leader) {
      await this.recorder.drain();
      await this.lease.release();
      this.stepDown("the schema is incomplete (see the schema drift above); run 'dbbeat migrate'");
    } else if (!usable) {
      this.log.warn("not leading: the schema is incomplete (see the schema drift above); run 'dbbeat migrate'");
    }
  }

  private stepDown(reason: string): void {
    this.leader = false;
    this.lease.drop();
    this.table.clear();
    this.recorder.clear();
    this.failures.clear();
    this.needFullLoad = true;
    this.log.warn(`stepped down: ${reason}`);
    this.emit('standby', { reason });
  }
}
