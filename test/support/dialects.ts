// The dialect matrix of the test suite: the databases a dialect-neutral test file runs
// against, each a fresh database with a random name (dropped after), and the few helpers
// such a file needs to write rows and run its own SQL on either. DBBEAT_TEST_DIALECT=postgres
// or mysql runs one; unset or empty runs both. withDialectDatabase() gives a describe block
// (or a file) its own migrated database.
import { after, before } from 'node:test';

import { migrate } from '../../src/db/migrate.js';
import type { MysqlDatabase } from '../../src/db/mysql/connection.js';
import { openDatabase, type OpenDatabase } from '../../src/db/open.js';
import { createTempMysqlDatabase } from './mysql.js';
import { insertMysqlTask } from './mysql-rows.js';
import { createTempDatabase } from './postgres.js';
import { insertTask, type TaskRowInput } from './rows.js';

export interface TestDialect {
  name: 'postgres' | 'mysql';
  /** A fresh, empty database on this dialect's test server. */
  create(prefix: string): Promise<{ url: string; drop(): Promise<void> }>;
  /** Inserts a task and its schedule with plain SQL, as another service would; returns the task id. */
  insertTask(db: OpenDatabase, input: TaskRowInput): Promise<number>;
  /**
   * Runs `sql` written with PostgreSQL's `$1, $2, …` placeholders; on MySQL they become `?`
   * (so each must appear once, in order). Keep the SQL itself to what both dialects accept.
   */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    db: OpenDatabase,
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]>;
  /** A time parameter as this dialect's driver writes it (MySQL: naive text in the database's zone). */
  time(db: OpenDatabase, at: Date): unknown;
  /** Empties the task, schedule, change-log and lease tables. */
  reset(db: OpenDatabase): Promise<void>;
}

const TABLES = [
  'django_celery_beat_periodictask',
  'django_celery_beat_crontabschedule',
  'django_celery_beat_intervalschedule',
  'django_celery_beat_solarschedule',
  'django_celery_beat_clockedschedule',
  'dbbeat_change',
  'dbbeat_lease',
];

function toQuestionMarks(sql: string): string {
  let expected = 1;
  return sql.replace(/\$(\d+)/g, (_match, n: string) => {
    if (Number(n) !== expected)
      throw new Error(`dialects.query: placeholder $${n} out of order (expected $${expected}) in: ${sql}`);
    expected += 1;
    return '?';
  });
}

const asMysql = (db: OpenDatabase) => db as unknown as MysqlDatabase;

export const allTestDialects: readonly TestDialect[] = [
  {
    name: 'postgres',
    create: (prefix) => createTempDatabase(prefix),
    insertTask: (db, input) =>
      insertTask(
        { query: async (sql: string, params?: unknown[]) => ({ rows: await db.query(sql, params) }) } as never,
        input,
      ),
    query: (db, sql, params) => db.query(sql, params),
    time: (_db, at) => at,
    reset: async (db) => {
      await db.query(`TRUNCATE ${TABLES.join(', ')} CASCADE`);
    },
  },
  {
    name: 'mysql',
    create: (prefix) => createTempMysqlDatabase(prefix),
    insertTask: (db, input) => insertMysqlTask(asMysql(db), input),
    query: (db, sql, params) => asMysql(db).query(toQuestionMarks(sql), params),
    time: (db, at) => asMysql(db).naiveTimes.fromEpochMs(at.getTime()),
    reset: async (db) => {
      // DELETE, not TRUNCATE: the foreign keys refuse a TRUNCATE of a referenced table.
      for (const table of TABLES) await asMysql(db).execute(`DELETE FROM ${table}`);
    },
  },
];

const only = process.env.DBBEAT_TEST_DIALECT;

/** The dialects this run covers (DBBEAT_TEST_DIALECT picks one). */
export const testDialects: readonly TestDialect[] = allTestDialects.filter(
  (d) => only === undefined || only === '' || d.name === only,
);

/** PostgreSQL, for the files that run on it alone. */
export const postgresDialect: TestDialect = allTestDialects.find((d) => d.name === 'postgres')!;

/** A test database of withDialectDatabase(): read its fields in tests and hooks, not while declaring them. */
export interface DialectDatabase {
  /** The database's URL, to hand to `dbbeat` commands. */
  readonly url: string;
  /** The database, migrated and open. */
  readonly db: OpenDatabase;
}

/**
 * Registers a `before` and an `after` hook in the calling describe block (or file): a fresh
 * database on `dialect` (its name starts with `prefix`), migrated and opened before the
 * tests; closed and dropped after them. Hooks run in the order they are registered, so the
 * caller's own `before` hooks (seeding rows) come after the migration, and its `after` hooks
 * after the database is gone: a file whose cleanup still needs the database does its own.
 */
export function withDialectDatabase(
  dialect: TestDialect,
  prefix: string,
  options: { poolSize?: number } = {},
): DialectDatabase {
  let temp: { url: string; drop(): Promise<void> } | undefined;
  let db: OpenDatabase | undefined;
  before(async () => {
    temp = await dialect.create(prefix);
    db = await openDatabase({ databaseUrl: temp.url, ...options });
    await migrate(db);
  });
  after(async () => {
    await db?.close();
    await temp?.drop();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error(`withDialectDatabase(${dialect.name}, ${prefix}): read before its before hook ran`);
    return value;
  };
  return {
    get url() {
      return ready(temp).url;
    },
    get db() {
      return ready(db);
    },
  };
}
