// The fault tests' pieces for MySQL/MariaDB: tasks inserted with raw SQL (explicit ids, as
// insertTasks does on PostgreSQL) and the lease row read back.
import type { MysqlDatabase } from '../../src/db/mysql/connection.js';
import type { InsertTasksOptions, TaskSpec } from './support.js';

/** Inserts the tasks of `options` (interval ones only: every-minute ones are PostgreSQL's test). */
export async function insertMysqlTasks(db: MysqlDatabase, options: InsertTasksOptions): Promise<TaskSpec[]> {
  const specs: TaskSpec[] = [];
  const intervalIds = new Map<number, number>();
  const values: unknown[][] = [];
  for (let index = 0; index < options.count; index += 1) {
    const every = options.schedule(index);
    if (every === 'every-minute') throw new Error('insertMysqlTasks: interval schedules only');
    let intervalId = intervalIds.get(every);
    if (intervalId === undefined) {
      intervalId = await db.transaction(async (tx) => {
        await tx.execute("INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (?, 'seconds')", [
          every,
        ]);
        const [row] = await tx.query<{ id: number }>('SELECT LAST_INSERT_ID() AS id');
        return row!.id;
      });
      intervalIds.set(every, intervalId);
    }
    const id = options.idBase + index;
    const name = `${options.namePrefix}_${index}`;
    values.push([id, name, intervalId]);
    specs.push({ id, name, kind: 'interval', everyMs: every * 1000, dateChanged: options.dateChanged });
  }
  const dateChanged = db.naiveTimes.fromEpochMs(options.dateChanged);
  await db.execute(
    `INSERT INTO django_celery_beat_periodictask
       (id, name, task, interval_id, args, kwargs, queue, headers, one_off, enabled, total_run_count, date_changed, description)
     VALUES ${values.map(() => "(?, ?, 'dbbeat.fault.noop', ?, '[]', '{}', ?, '{}', 0, 1, 0, ?, '')").join(', ')}`,
    values.flatMap((row) => [...row, options.queue, dateChanged]),
  );
  return specs;
}

/** The pid in the holder of the lease `name` while it is valid by the database's clock, else undefined. */
export async function mysqlLeaseHolderPid(db: MysqlDatabase, name = 'default'): Promise<number | undefined> {
  const [row] = await db.query<{ holder: string }>(
    'SELECT holder FROM dbbeat_lease WHERE name = ? AND expires_at > UTC_TIMESTAMP(6)',
    [name],
  );
  return row === undefined ? undefined : Number(row.holder.split(':').at(-2));
}
