import { setImmediate as nextTurn } from 'node:timers/promises';

import type { BeatStore, OwnTaskRow, TaskPage, TaskRow } from '../db/store.js';
import { ChangeFeed } from './change-feed.js';
import type { Clock } from './clock.js';
import type { Emit } from './events.js';
import type { Logger } from './logger.js';
import type { Recorder } from './recorder.js';
import { type RowResult, RowResolver } from './row-resolver.js';
import type { Entry, TaskTable } from './task-table.js';

/**
 * Tasks per page of the full load. Small pages keep less alive across each young-generation
 * GC (the page in hand and the one being read): at 1M tasks, pages of 1,000 peaked at
 * 303–343 MiB RSS against 449–458 MiB with 5,000, at no more CPU (bench/ANALYSIS.md, session 6).
 */
const LOAD_PAGE_SIZE = 1000;
/** Task ids per read of the changed tasks. */
const CHANGE_CHUNK_SIZE = 5000;

/** A due task, checked against the change log just before its run is sent. */
export interface DueRun {
  id: number;
  entry: Entry;
}

/** What re-reading the due tasks found: the runs still to send, and the tasks that expired. */
export interface DueBatch {
  runs: DueRun[];
  expired: number[];
}

/**
 * Brings task rows into the task table: the full load, the changes the change log names,
 * and a fresh read of each task just before its run is sent. Every row is checked (a bad
 * one is reported once per distinct problem and left out, the others keep their times);
 * tasks that share a schedule row share one parsed Schedule (see RowResolver).
 */
export class Loader {
  /** Problems already reported, by task id, so each is logged once. */
  private readonly invalid = new Map<number, string>();
  /**
   * Tasks a change showed disabled. Enabled again, such a task goes on from that moment, as
   * in django-celery-beat, whose save() clears last_run_at on disabling: a task paused past
   * its time does not run at once on resume (django-celery-beat#383, #510).
   */
  private readonly paused = new Set<number>();
  private readonly rows: RowResolver;
  private readonly feed: ChangeFeed;
  private installation = '';

  constructor(
    private readonly store: BeatStore,
    private readonly table: TaskTable,
    private readonly recorder: Recorder,
    private readonly log: Logger,
    private readonly emit: Emit,
    private readonly clock: Clock,
    /** DJANGO_CELERY_BEAT_TZ_AWARE=False: the zone every crontab is read in (ResolvedConfig.crontabTimezone). */
    crontabTimezone: string | null = null,
  ) {
    this.feed = new ChangeFeed(store, clock);
    this.rows = new RowResolver(crontabTimezone);
  }

  /** Enabled tasks left out as invalid (each reported once). */
  get invalidCount(): number {
    return this.invalid.size;
  }

  /** This database's id, part of every task id; read on each full load. */
  get installationId(): string {
    return this.installation;
  }

  /** Loads every enabled task, page by page, and computes its next run. */
  async loadAll(): Promise<void> {
    const started = this.clock.monotonic();
    this.table.clear();
    this.table.deferOrdering(); // the run queue is built once, after the load
    this.invalid.clear();
    this.rows.clear();
    const installation = await this.store.installationId();
    if (installation === null) throw new Error('dbbeat_installation is empty: run dbbeat migrate');
    this.installation = installation;
    // The change feed starts before the load, so changes made during it are replayed.
    await this.feed.startNow();
    // Beside the load, not before it: the pages' plans do not depend on statistics (the
    // PostgreSQL store reads bounded ranges of ids); the change feed's reads after "ready" do.
    const statistics = this.gatherStatistics();
    statistics.catch(() => undefined); // awaited before "ready"; a failure surfaces there
    const now = this.clock.now();
    const expired: number[] = [];
    const page = (afterId: number) => this.store.loadEnabledPage(afterId, LOAD_PAGE_SIZE, this.rows.knows);
    const load = (task: OwnTaskRow, result: RowResult) => this.loadRow(task, result, now, expired);
    let pending: Promise<TaskPage> | undefined = page(0);
    while (pending) {
      const read: TaskPage = await pending;
      const { tasks } = read;
      // The database reads the next page while this one is scheduled.
      pending = tasks.length === LOAD_PAGE_SIZE ? page(tasks[tasks.length - 1]!.id) : undefined;
      pending?.catch(() => undefined); // awaited on the next turn; a failure surfaces there
      // pg's pool writes a query on the next tick: let the request leave before this page's
      // scheduling holds the thread, or the database idles through it and the two never overlap.
      if (pending) await nextTurn();
      this.rows.resolvePage(read, load);
    }
    this.rows.endLoad();
    await statistics;
    await this.recorder.disable(expired);
    const next = this.table.queue.peekTime();
    this.log.info(
      {
        tasks: this.table.size,
        invalid: this.invalid.size,
        nextRunAt: next === undefined ? null : new Date(next).toISOString(),
        loadMs: Math.round(this.clock.monotonic() - started),
      },
      `beat ready: ${this.table.size} tasks scheduled, ${this.invalid.size} invalid`,
    );
    this.emit('ready', { role: 'leader', tasks: this.table.size, invalid: this.invalid.size });
  }

  /** ANALYZE of the tables whose statistics are missing or far behind (see BeatStore.ensureStatistics). */
  private async gatherStatistics(): Promise<void> {
    const analysed = (await this.store.ensureStatistics?.()) ?? [];
    if (analysed.length > 0)
      this.log.info({ tables: analysed }, `gathered planner statistics on ${analysed.join(', ')}`);
  }

  /** Reloads only the tasks the change log names. */
  async applyChanges(): Promise<void> {
    const ids = await this.feed.changedTaskIds();
    if (ids.length === 0) return;
    const now = this.clock.now();
    const expired: number[] = [];
    const names: string[] = [];
    let removed = 0;
    for (let start = 0; start < ids.length; start += CHANGE_CHUNK_SIZE) {
      const chunk = ids.slice(start, start + CHANGE_CHUNK_SIZE);
      const rows = await this.store.loadByIds(chunk);
      const found = new Set<number>();
      for (const row of rows) {
        found.add(row.id);
        if (names.length < CHANGE_NAMES_SHOWN) names.push(row.name);
        this.loadRow(row, row.enabled ? this.rows.resolve(row) : '', now, expired);
      }
      for (const id of chunk) {
        if (!found.has(id)) {
          removed++;
          this.forget(id);
          this.paused.delete(id);
        }
      }
    }
    await this.recorder.disable(expired);
    this.emit('changes', { tasks: ids.length, oldestAgeMs: this.feed.oldestAgeMs });
    if (this.log.isLevelEnabled('info')) {
      this.log.info(
        { tasks: ids.length },
        `picked up a change: ${describeChange(names, ids.length - removed, removed)}`,
      );
    }
  }

  /**
   * Makes sure the due tasks are sent as they are now, so that an edit made a moment ago
   * (args, queue, enabled, schedule) is honoured: the rows the change log names are read
   * again (every other task is sent from the checked row kept in memory). A task deleted,
   * disabled or now invalid is dropped; one whose schedule was edited follows the new
   * schedule from now instead of running; an expired one is dropped and returned for
   * disabling. When the change log cannot be read, every task goes back to its slot.
   */
  async reread(ids: number[]): Promise<DueBatch> {
    try {
      await this.applyChanges();
    } catch (error) {
      for (const id of ids) this.table.requeue(id);
      throw error;
    }
    const now = this.clock.now();
    const batch: DueBatch = { runs: [], expired: [] };
    for (const id of ids) {
      const entry = this.table.get(id);
      if (!entry) continue; // deleted, disabled or invalid since it was popped
      if (this.table.queue.has(id)) {
        // Reloaded just now, so queued again at the slot its new row gives.
        if (entry.slot > now) continue; // schedule edited: it follows the new schedule
        this.table.queue.delete(id);
      }
      const { expires } = entry.spec;
      if (expires !== null && expires <= now) {
        batch.expired.push(id);
        this.forget(id);
        continue;
      }
      batch.runs.push({ id, entry });
    }
    return batch;
  }

  /** Deletes change-log rows that no reader needs any more. */
  async prune(): Promise<void> {
    await this.feed.prune();
  }

  /** Schedules one checked row (`result`; a disabled row's is not looked at), or reports why it cannot be. */
  private loadRow(row: OwnTaskRow | TaskRow, result: RowResult, now: number, expired: number[]): void {
    if (!row.enabled) {
      this.forget(row.id);
      this.paused.add(row.id);
      return;
    }
    if (typeof result === 'string') {
      this.reportInvalid(row, result);
      return;
    }
    if (this.invalid.delete(row.id)) {
      this.log.info({ taskId: row.id, task: row.name }, `task ${JSON.stringify(row.name)} is valid again`);
    }
    if (result.expires !== null && result.expires <= now) {
      expired.push(row.id);
      this.forget(row.id);
      return;
    }
    this.table.put(result, now, this.paused.size > 0 && this.paused.delete(row.id));
  }

  /** A bad row is reported once per distinct problem, and unscheduled. */
  private reportInvalid(row: OwnTaskRow | TaskRow, problem: string): void {
    if (this.invalid.get(row.id) !== problem) {
      this.invalid.set(row.id, problem);
      this.log.error(
        { taskId: row.id, task: row.name, problem },
        `skipping task ${JSON.stringify(row.name)}: ${problem}`,
      );
      this.emit('invalid', { id: row.id, name: row.name, problem });
    }
    this.table.delete(row.id);
  }

  private forget(id: number): void {
    this.table.delete(id);
    this.invalid.delete(id);
  }
}

/** Task names shown in the INFO line of a picked-up change; the rest are counted. */
const CHANGE_NAMES_SHOWN = 3;

/** '"report", "add", "cleanup" and 97 more reloaded; 2 deleted' */
export function describeChange(names: readonly string[], reloaded: number, removed: number): string {
  const parts: string[] = [];
  if (reloaded > 0) {
    const more = reloaded - names.length;
    parts.push(
      `${names.map((name) => JSON.stringify(name)).join(', ')}${more > 0 ? ` and ${more} more` : ''} reloaded`,
    );
  }
  if (removed > 0) parts.push(`${removed} deleted`);
  return parts.join('; ');
}
