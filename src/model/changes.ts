// Change tracking, as django-celery-beat's PeriodicTasks model does it: one row
// (ident = 1) whose last_update tools such as django-celery-beat read. The database
// triggers of migrations/0003 bump it for every write, besides writing the change log
// that dbbeat's beat reads; the helpers here let people bump and read it by hand (after
// a TRUNCATE, say) and tell the client extension which writes count as changes.
import { Prisma } from '../generated/prisma/client.js';
import { BOOKKEEPING_FIELDS } from './fields.js';

/**
 * Bumps last_update to the database's clock and returns it. The same statement
 * as the trigger's: clock_timestamp(), not now(), so that a long transaction
 * does not move last_update backwards past a change already seen.
 */
export const bumpLastUpdateSql = Prisma.sql`
  INSERT INTO django_celery_beat_periodictasks (ident, last_update)
  VALUES (1, clock_timestamp())
  ON CONFLICT (ident) DO UPDATE SET last_update = excluded.last_update
  RETURNING last_update`;

/** The models whose writes are changes the beat must see (the tables the triggers watch). */
export const trackedModels = [
  'PeriodicTask',
  'IntervalSchedule',
  'CrontabSchedule',
  'SolarSchedule',
  'ClockedSchedule',
] as const;
export type TrackedModel = (typeof trackedModels)[number];

/** The Prisma operations that write. */
export const writeOperations = [
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
] as const;
export type WriteOperation = (typeof writeOperations)[number];

/** The beat's own bookkeeping on a task: writing only these is not a change. */
export const bookkeepingFields: ReadonlySet<string> = new Set(BOOKKEEPING_FIELDS);

/** True for a write through the client that the beat must hear of. */
export function isTrackedWrite(model: string | undefined, operation: string): model is TrackedModel {
  return (
    model !== undefined &&
    (trackedModels as readonly string[]).includes(model) &&
    (writeOperations as readonly string[]).includes(operation)
  );
}

/** True when an update's data writes nothing but last_run_at and total_run_count. */
export function isBookkeepingOnly(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const keys = Object.keys(data).filter((key) => (data as Record<string, unknown>)[key] !== undefined);
  return keys.length > 0 && keys.every((key) => bookkeepingFields.has(key));
}

/**
 * MySQL/MariaDB's bump: always forward (one microsecond past the stored value when that is
 * ahead, as a local time written by Django with USE_TZ = False can be), then read back.
 * Two statements: MySQL has no RETURNING. The triggers of migrations/mysql/0003 bump it too.
 */
const bumpLastUpdateMysqlSql = Prisma.sql`
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
  ON DUPLICATE KEY UPDATE last_update = GREATEST(last_update + INTERVAL 1 MICROSECOND, VALUES(last_update))`;

/** The minimal client the change helpers need: raw queries on the base client or a transaction. */
export interface RawQueryClient {
  $queryRaw<T = unknown>(query: Prisma.Sql): Prisma.PrismaPromise<T>;
  $executeRaw(query: Prisma.Sql): Prisma.PrismaPromise<number>;
}

/**
 * True for a Prisma client (or transaction client) generated for MySQL/MariaDB
 * (prisma/mysql/schema.prisma). Reads Prisma's `_activeProvider`, which every generated
 * client carries; a client without it is taken as PostgreSQL's.
 */
export function isMysqlClient(client: object): boolean {
  return (client as { _activeProvider?: unknown })._activeProvider === 'mysql';
}

/**
 * django-celery-beat's `PeriodicTasks.changed()`: tells every beat to reload.
 * Returns the new last_update.
 */
export async function markChanged(client: RawQueryClient): Promise<Date> {
  if (isMysqlClient(client)) {
    await client.$executeRaw(bumpLastUpdateMysqlSql);
    const last = await readLastChange(client);
    if (last === null) throw new Error('bumping django_celery_beat_periodictasks left no row');
    return last;
  }
  const rows = await client.$queryRaw<Array<{ last_update: Date }>>(bumpLastUpdateSql);
  const row = rows[0];
  if (row === undefined) throw new Error('bumping django_celery_beat_periodictasks returned no row');
  return row.last_update;
}

/** django-celery-beat's `PeriodicTasks.last_change()`: when tasks last changed, or null if never. */
export async function readLastChange(client: RawQueryClient): Promise<Date | null> {
  const rows = await client.$queryRaw<Array<{ last_update: Date }>>(
    Prisma.sql`SELECT last_update FROM django_celery_beat_periodictasks WHERE ident = 1`,
  );
  return rows[0]?.last_update ?? null;
}
