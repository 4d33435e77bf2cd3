// The objects migrations/mysql/ create on MySQL / MariaDB, and one catalog query that
// finds which are there (in the connection's current database), as postgres/schema-objects.ts.
import type { SchemaObject, SchemaObjectStatus } from '../schema-objects.js';

const DJANGO_TABLES = [
  'django_celery_beat_clockedschedule',
  'django_celery_beat_crontabschedule',
  'django_celery_beat_intervalschedule',
  'django_celery_beat_solarschedule',
  'django_celery_beat_periodictask',
  'django_celery_beat_periodictasks',
];
/** Short names of the tables whose writes the triggers log (trigger names end with them). */
const TRACKED = ['clockedschedule', 'crontabschedule', 'intervalschedule', 'solarschedule', 'periodictask'];
const SCHEDULES = TRACKED.slice(0, 4);

const M1 = '0001_django_celery_beat_tables.sql';
const M2 = '0002_dbbeat_tables.sql';
const M3 = '0003_change_triggers.sql';
const M5 = '0005_django_bookkeeping_is_not_a_change.sql';
const M7 = '0007_dbbeat_run.sql';

const trigger = (name: string, short: string, migration: string): SchemaObject => ({
  kind: 'trigger',
  name,
  table: `django_celery_beat_${short}`,
  migration,
  essential: false,
});

/**
 * Every object of migrations/mysql/ 0001–0005 the beat relies on (MySQL has no trigger
 * functions: each trigger carries its body). A trigger redefined by a later file names
 * that file (the task update trigger: 0005). A new migration that creates objects adds
 * them here.
 */
export const MYSQL_SCHEMA_OBJECTS: readonly SchemaObject[] = [
  ...DJANGO_TABLES.map((name) => ({ kind: 'table' as const, name, migration: M1, essential: true })),
  { kind: 'table', name: 'dbbeat_lease', migration: M2, essential: true },
  { kind: 'table', name: 'dbbeat_change', migration: M2, essential: true },
  { kind: 'table', name: 'dbbeat_installation', migration: M2, essential: true },
  { kind: 'row', name: 'dbbeat_installation', table: 'dbbeat_installation', migration: M2, essential: true },
  // Run history: without it the beat sends and records as before (history writes are retried).
  { kind: 'table', name: 'dbbeat_run', migration: M7, essential: false },
  ...TRACKED.flatMap((short) => [
    trigger(`dbbeat_log_insert_${short}`, short, M3),
    trigger(`dbbeat_log_update_${short}`, short, short === 'periodictask' ? M5 : M3),
    trigger(`dbbeat_log_delete_${short}`, short, M3),
  ]),
  ...SCHEDULES.map((short) => trigger(`dbbeat_delete_tasks_${short}`, short, M3)),
];

/** Which objects exist in the current database. ? text[] table names; ? text[] trigger names. */
const FIND_OBJECTS = `
SELECT 'table' AS kind, TABLE_NAME AS name, NULL AS on_table
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME IN (?)
UNION ALL
SELECT 'trigger', TRIGGER_NAME, EVENT_OBJECT_TABLE
FROM information_schema.TRIGGERS
WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME IN (?)`;

/** Looks up every object of {@link MYSQL_SCHEMA_OBJECTS}. */
export async function inspectMysqlSchema(db: {
  query<Row extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}): Promise<SchemaObjectStatus[]> {
  const names = (kind: SchemaObject['kind']) => [
    ...new Set(MYSQL_SCHEMA_OBJECTS.filter((o) => o.kind === kind).map((o) => o.name)),
  ];
  const found = await db.query<{ kind: string; name: string; on_table: string | null }>(FIND_OBJECTS, [
    names('table'),
    names('trigger'),
  ]);
  const key = (kind: string, name: string, table: string | null | undefined) =>
    `${kind}\u0000${name}\u0000${table ?? ''}`;
  const present = new Set(found.map((row) => key(row.kind, row.name, row.on_table)));
  let installationRow = false;
  if (present.has(key('table', 'dbbeat_installation', null))) {
    installationRow = (await db.query('SELECT 1 AS one FROM dbbeat_installation LIMIT 1')).length > 0;
  }
  return MYSQL_SCHEMA_OBJECTS.map((object) => {
    if (object.kind === 'row') return { ...object, present: installationRow };
    return {
      ...object,
      present: present.has(key(object.kind, object.name, object.kind === 'trigger' ? object.table : null)),
    };
  });
}
