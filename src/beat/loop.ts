import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';

import type { Broker } from '../broker/types.js';
import type { ResolvedConfig } from '../config.js';
import type { BeatStore } from '../db/store.js';
import { Backoff, type Clock, systemClock, Waker } from './clock.js';
import { Dispatcher } from './dispatch.js';
import type { BeatEvents, Emit } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { Lease } from './lease.js';
import { Leadership } from './leadership.js';
import { HistoryWriter } from './history.js';
import { Loader } from './loader.js';
import type { Logger } from './logger.js';
import { Recorder } from './recorder.js';
import { PREPARE_WHEN_IDLE_MS, PrepareAhead } from './prepare-ahead.js';
import { LeaseRenewal } from './renewal.js';
import { type SchemaRepair, SchemaWatch } from './schema-watch.js';
import { SendRound } from './send-round.js';
import { TaskFailures } from './task-failures.js';
import { TaskTable } from './task-table.js';

export type { BeatEvents } from './events.js';

const STANDBY_POLL_MS = 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;
const SCHEMA_RECHECK_AFTER_FAILURE_MS = 10_000;
/**
 * Records or history rows waiting for the write after the one in flight beyond which the
 * beat waits for the database before it sends more (a database slower than the sending):
 * the backlog stays bounded, and history never reaches its drop limit.
 */
const MAX_UNWRITTEN = 50_000;

/**
 * The beat: while it holds the lease, it keeps every enabled task's next run, sends
 * what is due in batches, and records each run after the broker accepted it.
 *
 * Everything happens in one async loop, so no two steps ever race: leadership, then
 * pending records, then changes, then due runs, then sleep until the earliest of the
 * next run, the next look at the database, or a change notification. The parts:
 * the Loader fills the task table, the SendRound sends what is due (through the
 * Dispatcher), the Recorder and the HistoryWriter write it down in the background and
 * the LeaseRenewal renews the lease beside the sending: the sending of what falls due
 * never waits for the database's writes (only for its change log, see Loader.reread).
 */
export class Beat extends EventEmitter<BeatEvents> {
  private readonly table = new TaskTable();
  private readonly lease: Lease;
  private readonly leadership: Leadership;
  private readonly recorder: Recorder;
  /** Writes run history (dbbeat_run); null when history is off. */
  private readonly history: HistoryWriter | null;
  private readonly round: SendRound;
  private readonly ahead: PrepareAhead;
  private readonly renewal: LeaseRenewal;
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
  private needFullLoad = true;
  private changesPending = false;
  private stopping = false;
  /** Sleeping after a failed step: only stop() or a change notification ends it early. */
  private backingOff = false;
  // When to poll and prune: monotonic ms (clock.monotonic()), so that a step of the wall
  // clock delays neither (nor the renewals: LeaseRenewal).
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
    // A background write's or renewal's end wakes a sleeping loop: a failure surfaces at
    // once, and a step reads their state before it sleeps (so no wake is lost).
    const wake = () => {
      if (!this.backingOff) this.waker.wakeIfSleeping(); // a retry keeps its backoff
    };
    this.renewal = new LeaseRenewal(this.lease, clock, options.leaseSeconds, wake);
    this.recorder = new Recorder(
      store,
      this.lease,
      log,
      (reason) => this.stepDown(reason),
      clock,
      wake,
      () => this.renewal.answeredOrIdle(),
    );
    this.leadership = new Leadership(
      this.lease,
      this.renewal,
      new Heartbeat(store, log, clock, options),
      this.recorder,
      log,
      emit,
      { becameLeader: () => (this.needFullLoad = true), stepDown: (reason) => this.stepDown(reason) },
    );
    this.loader = new Loader(store, this.table, this.recorder, log, emit, clock, options.crontabTimezone);
    this.failures = new TaskFailures(log, emit);
    this.history = options.history.enabled ? new HistoryWriter(store, log, wake) : null;
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
    this.ahead = new PrepareAhead(this.table.queue, (id) => this.dispatcher.prepare(id));
    this.round = new SendRound(
      this.table,
      this.loader,
      this.dispatcher,
      this.recorder,
      this.lease,
      this.renewal,
      clock,
      options.batchSize,
    );
  }

  /**
   * Resolves once every run sent so far has its history row written (or kept for a retry
   * after a failed write). For outcome writers: a worker's event can arrive before the beat
   * has even queued its run's row (RabbitMQ delivers to the worker before our publish
   * confirm returns), and an outcome applied to a row not yet there would be lost.
   */
  async historyWritten(): Promise<void> {
    await this.round.handedOver();
    await this.history?.drain();
  }

  get isLeader(): boolean {
    return this.leadership.isLeader;
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
    await this.leadership.release();
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
        this.backingOff = true;
        await this.waker.sleep(delay);
        this.backingOff = false;
      }
    }
    // Runs the broker accepted before the stop are recorded while the lease still holds.
    await this.renewal.during(this.recorder.drain());
    await this.renewal.during(this.history?.drain());
    await this.renewal.take(); // no request may answer after the release
    await this.recorder.settle().catch(() => undefined); // its records are kept: written below
    if (!this.leadership.isLeader) return;
    await this.recorder.writeBeforeStopping(this.options.leaseSeconds);
    this.recorder.reportUnrecorded();
  }

  private async step(): Promise<void> {
    if (this.clock.now() >= this.schemaCheckAt) await this.checkSchema();
    if (!this.schemaUsable) {
      await this.waker.sleep(Math.min(STANDBY_POLL_MS * 5, this.schemaCheckAt - this.clock.now()));
      return;
    }
    await this.leadership.keep();
    if (!this.leadership.isLeader) {
      await this.waker.sleep(STANDBY_POLL_MS);
      return;
    }
    if (this.needFullLoad) {
      this.ahead.reset();
      await this.loader.loadAll();
      this.needFullLoad = false;
      this.pollAt = this.clock.monotonic() + this.options.maxIntervalMs;
    }
    await this.awaitWrites();
    if (this.changesPending || this.clock.monotonic() >= this.pollAt) {
      this.changesPending = false;
      this.pollAt = this.clock.monotonic() + this.options.maxIntervalMs;
      await this.loader.applyChanges();
    }
    await this.round.run(() => this.stopping);
    if (this.clock.monotonic() >= this.pruneAt) {
      this.pruneAt = this.clock.monotonic() + PRUNE_EVERY_MS;
      await this.loader.prune();
    }
    const nextRun = this.table.queue.peekTime();
    const now = this.clock.now();
    const monotonic = this.clock.monotonic();
    // The next run, but not before the next batch may be popped (SendRound.nextBatchAt).
    const runInMs = Math.max((nextRun ?? Infinity) - now, this.round.nextBatchAt - monotonic);
    // A renewal in flight wakes the loop when it answers; one answered meanwhile is taken at once.
    const renewInMs = this.renewal.answered ? 0 : this.renewal.inFlight ? Infinity : this.renewal.nextAt - monotonic;
    const sleepMs = Math.min(runInMs, this.pollAt - monotonic, renewInMs);
    if (this.stopping || this.recorder.failed) return; // a failed write: the next step reports it
    // A quiet spell: prepare the next runs' messages, a slice at a time, then look again.
    // The turn yielded between slices lets sockets and timers in (a change notification, a
    // reply): otherwise the step's awaits, all settled at once, chained the slices into one
    // block of the thread (20,000 runs prepared: ~0.4 s).
    if (sleepMs >= PREPARE_WHEN_IDLE_MS && this.ahead.work(nextRun, now)) {
      await nextTurn();
      return;
    }
    // Idle only once the writes are done too: a test that waits for it then reads them
    // (each write's end wakes the loop for a step of its own). A records write waiting for a
    // renewal's answer is not under way: the answer wakes the loop, and the write goes on.
    const recording = this.recorder.writing && !this.recorder.waitingForRenewal;
    if (!recording && this.history?.busy !== true && this.listenerCount('idle') > 0)
      this.emit('idle', { wakeAt: now + sleepMs, nextRunAt: nextRun ?? null });
    await this.waker.sleep(sleepMs);
  }

  /**
   * What the background writes leave for the step: a failed records write is rethrown here
   * (its records kept: they are written again, before anything new is sent, on the next
   * step); records nobody writes (after a failure, or held by a row lock) are written now;
   * and a backlog grown past MAX_UNWRITTEN (a database slower than the sending) is waited for.
   */
  private async awaitWrites(): Promise<void> {
    const { recorder, history, renewal } = this;
    if (recorder.failed) await recorder.settle();
    if (recorder.hasPending && !recorder.writing) {
      const flushing = recorder.flush();
      await renewal.during(flushing);
      await flushing;
    }
    if (recorder.backlog > MAX_UNWRITTEN) await renewal.during(recorder.drain());
    if (history !== null && history.backlog > MAX_UNWRITTEN) await renewal.during(history.drain());
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
    if (!usable && this.leadership.isLeader) {
      await this.recorder.drain();
      await this.renewal.take(); // no request may answer after the release
      await this.lease.release();
      this.stepDown("the schema is incomplete (see the schema drift above); run 'dbbeat migrate'");
    } else if (!usable) {
      this.log.warn("not leading: the schema is incomplete (see the schema drift above); run 'dbbeat migrate'");
    }
  }

  private stepDown(reason: string): void {
    this.leadership.lost();
    this.table.clear();
    this.recorder.clear();
    this.failures.clear();
    this.needFullLoad = true;
    this.log.warn(`stepped down: ${reason}`);
    this.emit('standby', { reason });
  }
}
