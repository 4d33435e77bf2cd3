import type { Database } from '../schema/database.js';
import { DATABASE_NOW, PRUNE_CHANGES, READ_CHANGES, TASKS_OF_SCHEDULES } from './sql.js';

/** Rows of dbbeat_change commit in their own order, not in id order: re-read this much. */
const REREAD_WINDOW_MS = 10_000;
/** Change-log rows older than this are deleted by the leader. */
const KEEP_CHANGES_MS = 60 * 60 * 1000;

const SCHEDULE_TABLES = {
  django_celery_beat_crontabschedule: 0,
  django_celery_beat_intervalschedule: 1,
  django_celery_beat_solarschedule: 2,
  django_celery_beat_clockedschedule: 3,
} as const;

/**
 * Reads what changed since the last look from the change log that the database
 * triggers write (any writer: our client, raw SQL, Django), and turns it into the ids
 * of the tasks to reload. Nothing here reads the whole task table.
 */
export class ChangeFeed {
  private windowStart: Date | null = null;
  private readonly seen = new Map<string, number>(); // change id -> changed_at ms

  constructor(private readonly db: Pick<Database, 'query'>) {}

  /** Starts the feed at the database's current time: earlier changes are part of a full load. */
  async startNow(): Promise<void> {
    const [row] = await this.db.query<{ now: Date }>(DATABASE_NOW);
    this.windowStart = new Date(row!.now.getTime() - REREAD_WINDOW_MS);
    this.seen.clear();
  }

  /** Task ids touched by changes not seen before (tasks edited, or whose schedule was). */
  async changedTaskIds(): Promise<number[]> {
    if (this.windowStart === null) await this.startNow();
    const [clock] = await this.db.query<{ now: Date }>(DATABASE_NOW);
    const rows = await this.db.query<{ id: string; table_name: string; row_id: number; changed_at: Date }>(
      READ_CHANGES,
      [this.windowStart],
    );
    const taskIds = new Set<number>();
    const scheduleIds: number[][] = [[], [], [], []];
    for (const row of rows) {
      if (this.seen.has(row.id)) continue;
      this.seen.set(row.id, row.changed_at.getTime());
      if (row.table_name === 'django_celery_beat_periodictask') {
        taskIds.add(row.row_id);
      } else if (row.table_name in SCHEDULE_TABLES) {
        scheduleIds[SCHEDULE_TABLES[row.table_name as keyof typeof SCHEDULE_TABLES]]!.push(row.row_id);
      }
    }
    if (scheduleIds.some((ids) => ids.length > 0)) {
      const users = await this.db.query<{ id: number }>(TASKS_OF_SCHEDULES, scheduleIds);
      for (const { id } of users) taskIds.add(id);
    }
    // Move the window on, and forget ids that fell out of it.
    this.windowStart = new Date(clock!.now.getTime() - REREAD_WINDOW_MS);
    const horizon = this.windowStart.getTime();
    for (const [id, at] of this.seen) if (at < horizon) this.seen.delete(id);
    return [...taskIds];
  }

  /** Deletes change-log rows that no reader needs any more. */
  async prune(): Promise<void> {
    const [clock] = await this.db.query<{ now: Date }>(DATABASE_NOW);
    await this.db.query(PRUNE_CHANGES, [new Date(clock!.now.getTime() - KEEP_CHANGES_MS)]);
  }
}
