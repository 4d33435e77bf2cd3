import type { BeatStore, ScheduleIds } from '../db/store.js';
import { type Clock, systemClock } from './clock.js';

/**
 * How long a hole in the change-log ids is waited for. Ids come from a sequence, so a
 * hole is a change whose transaction has not committed yet (it will show up) or was
 * rolled back (it never will).
 */
const GAP_GRACE_MS = 10_000;
/** Change-log rows older than this are deleted by the leader. */
const KEEP_CHANGES_MS = 60 * 60 * 1000;

const SCHEDULE_TABLES = new Map<string, keyof ScheduleIds>([
  ['django_celery_beat_crontabschedule', 'crontab'],
  ['django_celery_beat_intervalschedule', 'interval'],
  ['django_celery_beat_solarschedule', 'solar'],
  ['django_celery_beat_clockedschedule', 'clocked'],
]);

/** Holes wider than this are a rolled-back bulk write, not changes still to come. */
const MAX_TRACKED_HOLE = 10_000;

/**
 * Reads what changed since the last look from the change log that the database
 * triggers write (any writer: our client, raw SQL, Django), and turns it into the ids
 * of the tasks to reload. Nothing here reads the whole task table, and each change is
 * read once: the feed reads above the highest id it has read, plus the holes below it
 * (ids taken by transactions that had not committed yet), each for a grace period.
 */
export class ChangeFeed {
  /** The highest change id read. */
  private top = 0;
  /** Ids below `top` not read yet, and when they were first missed (monotonic ms). */
  private readonly holes = new Map<number, number>();
  private started = false;
  /** The age of the oldest change the last read found (ms, database clock), null when none or unknown. */
  oldestAgeMs: number | null = null;

  constructor(
    private readonly store: Pick<BeatStore, 'changeFeedStart' | 'readChanges' | 'tasksOfSchedules' | 'pruneChanges'>,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Starts the feed before a full load: every change visible now is covered by that
   * load. Ids missing among the recent ones belong to transactions still in flight:
   * they are read when they commit.
   */
  async startNow(): Promise<void> {
    const start = await this.store.changeFeedStart(GAP_GRACE_MS / 1000);
    this.top = start.top;
    this.holes.clear();
    const now = this.clock.monotonic();
    for (const id of start.missing) this.holes.set(id, now);
    this.started = true;
  }

  /** Task ids touched by changes not read before (tasks edited, or whose schedule was). */
  async changedTaskIds(): Promise<number[]> {
    if (!this.started) await this.startNow();
    const rows = await this.store.readChanges(this.top, [...this.holes.keys()]);
    const now = this.clock.monotonic();
    const taskIds = new Set<number>();
    const scheduleIds: ScheduleIds = { crontab: [], interval: [], solar: [], clocked: [] };
    let anySchedule = false;
    let expected = this.top + 1;
    let oldest: number | null = null;
    for (const row of rows) {
      if (row.ageMs !== undefined && (oldest === null || row.ageMs > oldest)) oldest = row.ageMs;
      if (row.id < expected) {
        this.holes.delete(row.id); // a late commit
      } else {
        if (row.id - expected <= MAX_TRACKED_HOLE) {
          for (let missing = expected; missing < row.id; missing += 1) this.holes.set(missing, now);
        }
        expected = row.id + 1;
      }
      const kind = SCHEDULE_TABLES.get(row.table);
      if (row.table === 'django_celery_beat_periodictask') {
        taskIds.add(row.rowId);
      } else if (kind !== undefined) {
        scheduleIds[kind].push(row.rowId);
        anySchedule = true;
      }
    }
    this.top = expected - 1;
    this.oldestAgeMs = oldest;
    for (const [id, missedAt] of this.holes) {
      if (now - missedAt >= GAP_GRACE_MS) this.holes.delete(id); // rolled back: it will never come
    }
    if (anySchedule) {
      for (const id of await this.store.tasksOfSchedules(scheduleIds)) taskIds.add(id);
    }
    return [...taskIds];
  }

  /** Deletes change-log rows that no reader needs any more. */
  async prune(): Promise<void> {
    await this.store.pruneChanges(KEEP_CHANGES_MS / 1000);
  }
}
