import { EventEmitter } from 'node:events';

import type { Broker, TaskMessage } from '../broker/types.js';
import type { Database } from '../schema/database.js';
import type { CheckOptions } from '../schema/validate.js';
import type { Schedule } from '../schedules/types.js';
import { ChangeFeed } from './change-feed.js';
import { Lease } from './lease.js';
import type { Logger } from './logger.js';
import type { ResolvedBeatOptions } from './options.js';
import { DATABASE_CLOCK, DISABLE_TASKS, INSTALLATION_ID, LOAD_BY_IDS, LOAD_ENABLED_PAGE, RECORD_RUNS } from './sql.js';
import { messageFor, resolveTaskRow, type ResolvedTask, type TaskRow } from './task-row.js';
import { recordedLastRun, TaskTable } from './task-table.js';
import { runTaskId } from './task-id.js';
import { Backoff, Waker } from './timing.js';

/** Typed lifecycle events: for logs, metrics and tests alike. */
export interface BeatEvents {
  /** The first full load is done (leader) or the process is standing by. */
  ready: [{ role: 'leader' | 'standby'; tasks: number; invalid: number }];
  leader: [{ token: string }];
  standby: [{ reason: string }];
  /** A batch went to the broker and was recorded. */
  sent: [{ sent: number; duplicates: number; failed: number }];
  /** A task row that cannot be scheduled (reported once per distinct problem). */
  invalid: [{ id: number; name: string; problem: string }];
  /**
   * A failed step; the loop retries with backoff. (Not named 'error': an EventEmitter
   * throws an 'error' event nobody listens to, and a failed step must never crash the beat.)
   */
  failure: [Error];
}

/** One row of RECORD_RUNS. */
interface RunRecord {
  id: number;
  lastRunAt: number;
  runs: 0 | 1;
  disable: boolean;
}

const LOAD_PAGE_SIZE = 5000;
const STANDBY_POLL_MS = 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;

/**
 * The beat: while it holds the lease, it keeps every enabled task's next run, sends
 * what is due in batches, and records each run after the broker accepted it.
 *
 * Everything happens in one async loop, so no two steps ever race: leadership, then
 * pending records, then changes, then due runs, then sleep until the earliest of the
 * next run, the next look at the database, or a change notification.
 */
export class Beat extends EventEmitter<BeatEvents> {
  private readonly table = new TaskTable();
  private readonly lease: Lease;
  private readonly feed: ChangeFeed;
  private readonly waker = new Waker();
  private readonly backoff = new Backoff();
  /** Problems already reported, by task id, so each is logged once. */
  private readonly invalid = new Map<number, string>();
  /** One checked Schedule per distinct schedule row, shared by the tasks that use it. */
  private readonly schedules: NonNullable<CheckOptions['scheduleCache']> = new Map();
  /** Runs the broker accepted whose recording failed; written before anything else. */
  private pendingRecords: RunRecord[] = [];
  /**
   * The recording of sent batches runs beside the sending of the next batch (the
   * broker and the database work at the same time); at most one write is in flight.
   */
  private recording: Promise<void> | undefined;
  private recordingError: unknown;
  /** This database's id, part of every task id; read on each full load. */
  private installationId = '';
  private leader = false;
  private announcedStandby = false;
  private needFullLoad = true;
  private changesPending = false;
  private stopping = false;
  private renewAt = 0;
  private pollAt = 0;
  private pruneAt = 0;
  private loop: Promise<void> | undefined;
  private stopListening: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly log: Logger,
    private readonly options: ResolvedBeatOptions,
  ) {
    super();
    this.lease = new Lease(db, { name: options.leaseName, holder: options.holder, ttlSeconds: options.leaseSeconds });
    this.feed = new ChangeFeed(db);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get scheduledTasks(): number {
    return this.table.size;
  }

  /** Starts the loop. Listening for change notifications is best effort: polling covers it. */
  start(): void {
    this.loop = this.run();
    this.db
      .listen('dbbeat_change', () => {
        this.changesPending = true;
        this.waker.wake();
      })
      .then((stop) => {
        if (this.stopping) void stop();
        else this.stopListening = stop;
      })
      .catch((error: unknown) => this.log.warn({ err: error }, 'cannot listen for changes; polling every max-interval'));
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
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
        this.backoff.reset();
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        const delay = this.backoff.next();
        this.log.error({ err, retryInMs: Math.round(delay) }, `beat: ${err.message}; retrying in ${Math.round(delay)} ms`);
        this.emit('failure', err);
        await this.waker.sleep(delay);
      }
    }
    // Runs the broker accepted before the stop are recorded while the lease still holds.
    await this.recording;
    if (this.leader && this.pendingRecords.length > 0) {
      await this.flushRecords().catch((error: unknown) => this.log.error({ err: error }, 'could not record the last runs'));
    }
  }

  private async step(): Promise<void> {
    await this.keepLeadership();
    if (!this.leader) {
      await this.waker.sleep(STANDBY_POLL_MS);
      return;
    }
    if (this.needFullLoad) await this.loadAll();
    if (this.pendingRecords.length > 0) await this.flushRecords();
    const now = Date.now();
    if (this.changesPending || now >= this.pollAt) {
      this.changesPending = false;
      this.pollAt = now + this.options.maxIntervalMs;
      await this.applyChanges();
    }
    await this.sendDue();
    if (Date.now() >= this.pruneAt) {
      this.pruneAt = Date.now() + PRUNE_EVERY_MS;
      await this.feed.prune();
    }
    const nextRun = this.table.queue.peekTime() ?? Infinity;
    const wakeAt = Math.min(nextRun, this.pollAt, this.renewAt);
    if (!this.stopping) await this.waker.sleep(wakeAt - Date.now());
  }

  /** Renews the lease a few times per time to live; takes it when it lapsed. */
  private async keepLeadership(): Promise<void> {
    if (this.leader && Date.now() < this.renewAt && this.lease.isHeld) return;
    let held: boolean;
    try {
      held = await this.lease.tryAcquire();
    } catch (error) {
      if (this.leader && !this.lease.isHeld) this.stepDown('the lease could not be renewed');
      throw error;
    }
    this.renewAt = Date.now() + (this.options.leaseSeconds * 1000) / 3;
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

  private stepDown(reason: string): void {
    this.leader = false;
    this.lease.drop();
    this.table.clear();
    this.pendingRecords = [];
    this.needFullLoad = true;
    this.log.warn(`stepped down: ${reason}`);
    this.emit('standby', { reason });
  }

  /** Loads every enabled task, page by page, and computes its next run. */
  private async loadAll(): Promise<void> {
    const started = performance.now();
    this.table.clear();
    this.invalid.clear();
    this.schedules.clear();
    await this.checkClockSkew();
    const [installation] = await this.db.query<{ id: string }>(INSTALLATION_ID);
    if (!installation) throw new Error('dbbeat_installation is empty: run dbbeat migrate');
    this.installationId = installation.id;
    // The change feed starts before the load, so changes made during it are replayed.
    await this.feed.startNow();
    const now = Date.now();
    const expired: number[] = [];
    const page = (afterId: number) => this.db.query<TaskRow>(LOAD_ENABLED_PAGE, [afterId, LOAD_PAGE_SIZE]);
    let pending: Promise<TaskRow[]> | undefined = page(0);
    while (pending) {
      const rows: TaskRow[] = await pending;
      // The database reads the next page while this one is scheduled.
      pending = rows.length === LOAD_PAGE_SIZE ? page(rows[rows.length - 1]!.id) : undefined;
      pending?.catch(() => undefined); // awaited on the next turn; a failure surfaces there
      for (const row of rows) this.loadRow(row, now, expired);
    }
    await this.disableExpired(expired);
    this.needFullLoad = false;
    this.pollAt = Date.now() + this.options.maxIntervalMs;
    const next = this.table.queue.peekTime();
    this.log.info(
      {
        tasks: this.table.size,
        invalid: this.invalid.size,
        nextRunAt: next === undefined ? null : new Date(next).toISOString(),
        loadMs: Math.round(performance.now() - started),
      },
      `beat ready: ${this.table.size} tasks scheduled, ${this.invalid.size} invalid`,
    );
    this.emit('ready', { role: 'leader', tasks: this.table.size, invalid: this.invalid.size });
  }

  /** Reloads only the tasks the change log names. */
  private async applyChanges(): Promise<void> {
    const ids = await this.feed.changedTaskIds();
    if (ids.length === 0) return;
    const now = Date.now();
    const expired: number[] = [];
    for (let start = 0; start < ids.length; start += LOAD_PAGE_SIZE) {
      const chunk = ids.slice(start, start + LOAD_PAGE_SIZE);
      const rows = await this.db.query<TaskRow>(LOAD_BY_IDS, [chunk]);
      const found = new Set<number>();
      for (const row of rows) {
        found.add(row.id);
        this.loadRow(row, now, expired);
      }
      for (const id of chunk) {
        if (!found.has(id)) this.forget(id);
      }
    }
    await this.disableExpired(expired);
    this.log.debug({ tasks: ids.length }, 'reloaded changed tasks');
  }

  /** Schedules one row, or reports why it cannot be. */
  private loadRow(row: TaskRow, now: number, expired: number[]): void {
    if (!row.enabled) {
      this.forget(row.id);
      return;
    }
    const task = this.resolve(row);
    if (!task) return;
    if (row.expires !== null && row.expires.getTime() <= now) {
      expired.push(row.id);
      this.forget(row.id);
      return;
    }
    this.table.upsert(task, now);
  }

  /** Validates a row; a bad one is reported once per distinct problem and unscheduled. */
  private resolve(row: TaskRow): ResolvedTask | undefined {
    const resolution = resolveTaskRow(row, { scheduleCache: this.schedules });
    if (!resolution.ok) {
      if (this.invalid.get(row.id) !== resolution.problem) {
        this.invalid.set(row.id, resolution.problem);
        this.log.error({ taskId: row.id, task: row.name, problem: resolution.problem }, `skipping task ${JSON.stringify(row.name)}: ${resolution.problem}`);
        this.emit('invalid', { id: row.id, name: row.name, problem: resolution.problem });
      }
      this.table.delete(row.id);
      return undefined;
    }
    if (this.invalid.delete(row.id)) {
      this.log.info({ taskId: row.id, task: row.name }, `task ${JSON.stringify(row.name)} is valid again`);
    }
    return resolution.task;
  }

  private forget(id: number): void {
    this.table.delete(id);
    this.invalid.delete(id);
  }

  /** Sends due runs batch by batch, as long as the lease is surely held. */
  private async sendDue(): Promise<void> {
    try {
      while (!this.stopping && Date.now() < this.renewAt) {
        if (this.recordingError !== undefined) break; // surfaced by settleRecords below
        const token = this.lease.token;
        if (token === null) break;
        const ids = this.table.queue.popDue(Date.now(), this.options.batchSize);
        if (ids.length === 0) break;
        await this.sendBatch(ids, token);
      }
    } finally {
      await this.settleRecords();
    }
  }

  /** Starts writing pending records unless a write is already running (it takes them too). */
  private startRecording(token: string): void {
    if (this.recording) return;
    this.recording = (async () => {
      try {
        while (this.pendingRecords.length > 0 && this.leader) await this.flushRecords(token);
      } catch (error) {
        this.recordingError = error;
      } finally {
        this.recording = undefined;
      }
    })();
  }

  /** Waits for the write in flight; rethrows its failure (the records stay pending). */
  private async settleRecords(): Promise<void> {
    await this.recording;
    const error = this.recordingError;
    this.recordingError = undefined;
    if (error !== undefined) throw error;
  }

  private async sendBatch(ids: number[], token: string): Promise<void> {
    let rows: TaskRow[];
    try {
      // Read fresh: an edit made a moment ago (args, queue, enabled) is honoured.
      rows = await this.db.query<TaskRow>(LOAD_BY_IDS, [ids]);
    } catch (error) {
      for (const id of ids) this.table.requeue(id);
      throw error;
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    const now = Date.now();
    const messages: TaskMessage[] = [];
    const planned: { id: number; name: string; slot: number; disable: boolean; schedule: Schedule }[] = [];
    const records: RunRecord[] = [];
    const expired: number[] = [];
    for (const id of ids) {
      const entry = this.table.get(id);
      const row = byId.get(id);
      if (!entry || !row || !row.enabled) {
        this.forget(id);
        continue;
      }
      const task = this.resolve(row);
      if (!task) continue;
      if (task.scheduleKey !== entry.scheduleKey) {
        this.table.upsert(task, now); // edited since loaded: follow the new schedule from now
        continue;
      }
      if (row.expires !== null && row.expires.getTime() <= now) {
        expired.push(id);
        this.forget(id);
        continue;
      }
      const lateMs = now - entry.slot;
      if (this.options.startingDeadlineMs !== null && lateMs > this.options.startingDeadlineMs) {
        this.log.warn({ task: row.name, scheduled: new Date(entry.slot).toISOString(), lateMs }, `skipped a run of ${JSON.stringify(row.name)}: past the starting deadline`);
        records.push({ id, lastRunAt: now, runs: 0, disable: false });
        continue;
      }
      const slot = new Date(entry.slot);
      messages.push(messageFor(task, runTaskId(this.installationId, id, slot), slot, new Date(now)));
      planned.push({ id, name: row.name, slot: entry.slot, disable: row.one_off, schedule: entry.schedule });
    }

    let outcomes;
    try {
      outcomes = messages.length > 0 ? await this.broker.publish(messages) : [];
    } catch (error) {
      // Nothing is known to be sent: every run of the batch waits for the next try
      // (skipped ones too, so they are skipped and recorded then).
      for (const run of planned) this.table.requeue(run.id);
      for (const record of records) this.table.requeue(record.id);
      throw error;
    }
    let duplicates = 0;
    let failure: Error | undefined;
    let failed = 0;
    const sentAt = Date.now();
    const logRuns = this.log.isLevelEnabled('info'); // a million sends: skip building unused lines
    outcomes.forEach((outcome, index) => {
      const run = planned[index]!;
      const message = messages[index]!;
      if (outcome.status === 'failed') {
        failed += 1;
        failure = outcome.error;
        this.table.requeue(run.id);
        return;
      }
      if (outcome.status === 'duplicate') duplicates += 1;
      records.push({ id: run.id, lastRunAt: recordedLastRun(run.schedule, run.slot, now, this.options.catchUpWindowMs), runs: 1, disable: run.disable });
      if (!logRuns) return;
      this.log.info(
        {
          task: run.name,
          id: message.id,
          queue: message.queue ?? 'celery',
          scheduled: message.scheduledAt.toISOString(),
          sent: new Date(sentAt).toISOString(),
          ...(outcome.status === 'duplicate' ? { duplicate: true } : {}),
        },
        outcome.status === 'duplicate' ? `already sent ${run.name}` : `sent ${run.name}`,
      );
    });
    // The schedule moves on in memory at once; the database follows (or is retried).
    for (const record of records) {
      if (record.disable) this.forget(record.id);
      else this.table.advance(record.id, record.lastRunAt);
    }
    this.pendingRecords.push(...records);
    this.startRecording(token);
    await this.disableExpired(expired);
    this.emit('sent', { sent: planned.length - failed - duplicates, duplicates, failed });
    if (failure) throw new Error(`the broker refused ${failed} of ${messages.length} messages: ${failure.message}`);
  }

  /** Writes pending run records, fenced by the lease token. */
  private async flushRecords(token = this.lease.token): Promise<void> {
    if (this.pendingRecords.length === 0) return;
    if (token === null) throw new Error('cannot record runs: the lease is not held');
    const records = this.pendingRecords.splice(0);
    let written: { id: number }[];
    try {
      written = await this.db.query<{ id: number }>(RECORD_RUNS, [
        records.map((r) => r.id),
        records.map((r) => new Date(r.lastRunAt)),
        records.map((r) => r.runs),
        records.map((r) => r.disable),
        this.options.leaseName,
        token,
      ]);
    } catch (error) {
      this.pendingRecords.unshift(...records); // retried before anything new is sent
      throw error;
    }
    if (written.length === 0) {
      // Fenced out (or every task was deleted meanwhile): another leader may be running.
      // Its re-send of these runs carries the same ids, which Redis suppresses.
      this.stepDown('the lease was lost before the runs could be recorded');
    }
  }

  private async disableExpired(ids: number[]): Promise<void> {
    const token = this.lease.token;
    if (ids.length === 0 || token === null) return;
    await this.db.query(DISABLE_TASKS, [ids, this.options.leaseName, token]);
    this.log.info({ tasks: ids.length }, `disabled ${ids.length} expired task(s)`);
  }

  /** Schedules run by this host's clock and leases by the database's: warn when they differ. */
  private async checkClockSkew(): Promise<void> {
    const before = Date.now();
    const [row] = await this.db.query<{ clock: Date }>(DATABASE_CLOCK);
    const after = Date.now();
    const skewMs = row!.clock.getTime() - (before + after) / 2;
    if (Math.abs(skewMs) > 2000) {
      this.log.warn({ skewMs: Math.round(skewMs) }, 'this host clock and the database clock differ by more than 2 s; runs follow this host clock');
    }
  }
}
