// The objects migrations/ create on PostgreSQL and PGlite, and one catalog query that
// finds which are there (in the tables and functions visible on the search path).
import type { Database } from '../database.js';
import type { SchemaObject, SchemaObjectStatus } from '../schema-objects.js';

const DJANGO_TABLES = [
  'django_celery_beat_clockedschedule',
  'django_celery_beat_crontabschedule',
  'django_celery_beat_intervalschedule',
  'django_celery_beat_solarschedule',
  'django_celery_beat_periodictask',
  'django_celery_beat_periodictasks',
];
/** The tables whose writes the change triggers log (migrations/0003). */
const TRACKED_TABLES = DJANGO_TABLES.slice(0, 5);
const SCHEDULE_TABLES = DJANGO_TABLES.slice(0, 4);

const M1 = '0001_django_celery_beat_tables.sql';
const M2 = '0002_dbbeat_tables.sql';
const M3 = '0003_change_triggers.sql';
const M4 = '0004_dbbeat_installation.sql';
const M7 = '0007_dbbeat_beat.sql';
const M8 = '0008_dbbeat_run.sql';

/**
 * Every object of migrations/ 0001–0004, 0007 and 0008. Each of those files is idempotent (IF NOT EXISTS,
 * CREATE OR REPLACE, DROP … IF EXISTS before CREATE, ON CONFLICT DO NOTHING), so
 * re-applying the file that creates a missing object repairs it without touching the rest.
 * A new migration that creates objects adds them here, and must be idempotent too.
 */
export const POSTGRES_SCHEMA_OBJECTS: readonly SchemaObject[] = [
  ...DJANGO_TABLES.map((name) => ({ kind: 'table' as const, name, migration: M1, essential: true })),
  { kind: 'table', name: 'dbbeat_lease', migration: M2, essential: true },
  { kind: 'table', name: 'dbbeat_change', migration: M2, essential: true },
  { kind: 'table', name: 'dbbeat_installation', migration: M4, essential: true },
  { kind: 'row', name: 'dbbeat_installation', table: 'dbbeat_installation', migration: M4, essential: true },
  // Only the console's list of beats needs it; the heartbeat is best effort.
  { kind: 'table', name: 'dbbeat_beat', migration: M7, essential: false },
  // Run history: without it the beat sends and records as before (history writes are retried).
  { kind: 'table', name: 'dbbeat_run', migration: M8, essential: false },
  ...['dbbeat_log_change', 'dbbeat_announce_changes', 'dbbeat_delete_tasks_of_schedule'].map((name) => ({
    kind: 'function' as const,
    name,
    migration: M3,
    essential: false,
  })),
  ...TRACKED_TABLES.flatMap((table) =>
    ['dbbeat_log_insert_delete', 'dbbeat_log_update', 'dbbeat_announce_changes'].map((name) => ({
      kind: 'trigger' as const,
      name,
      table,
      migration: M3,
      essential: false,
    })),
  ),
  ...SCHEDULE_TABLES.map((table) => ({
    kind: 'trigger' as const,
    name: 'dbbeat_delete_tasks',
    table,
    migration: M3,
    essential: false,
  })),
];

/**
 * Which objects exist. One statement over the catalogs; the installation row is read only
 * when its table exists. $1 text[] tables; $2 text[] functions; $3 text[] trigger names.
 */
const FIND_OBJECTS = `
SELECT 'table' AS kind, c.relname::text AS name, NULL::text AS on_table, NULL::boolean AS enabled
FROM pg_class c
WHERE c.relkind IN ('r', 'p') AND c.relname = ANY($1::text[]) AND pg_table_is_visible(c.oid)
UNION ALL
SELECT 'function', p.proname::text, NULL, NULL
FROM pg_proc p
WHERE p.proname = ANY($2::text[]) AND pg_function_is_visible(p.oid)
UNION ALL
SELECT 'trigger', t.tgname::text, c.relname::text, t.tgenabled <> 'D'
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND t.tgname = ANY($3::text[]) AND pg_table_is_visible(c.oid)`;

/** Looks up every object of {@link POSTGRES_SCHEMA_OBJECTS}. */
export async function inspectPostgresSchema(db: Pick<Database, 'query'>): Promise<SchemaObjectStatus[]> {
  const names = (kind: SchemaObject['kind']) => [
    ...new Set(POSTGRES_SCHEMA_OBJECTS.filter((o) => o.kind === kind).map((o) => o.name)),
  ];
  const found = await db.query<{ kind: string; name: string; on_table: string | null; enabled: boolean | null }>(
    FIND_OBJECTS,
    [names('table'), names('function'), names('trigger')],
  );
  const key = (kind: string, name: string, table: string | null | undefined) =>
    `${kind}\u0000${name}\u0000${table ?? ''}`;
  const present = new Map(found.map((row) => [key(row.kind, row.name, row.on_table), row.enabled]));
  let installationRow = false;
  if (present.has(key('table', 'dbbeat_installation', null))) {
    installationRow = (await db.query('SELECT 1 FROM dbbeat_installation LIMIT 1')).length > 0;
  }
  return POSTGRES_SCHEMA_OBJECTS.map((object) => {
    if (object.kind === 'row') return { ...object, present: installationRow };
    const enabled = present.get(key(object.kind, object.name, object.kind === 'trigger' ? object.table : null));
    if (enabled === undefined) return { ...object, present: false };
    if (enabled === false) return { ...object, present: false, detail: 'disabled' };
    return { ...object, present: true };
  });
}
