// Applies dbbeat's MySQL migration files (migrations/mysql/). MySQL commits every DDL
// statement on its own, so a file cannot be one transaction as on PostgreSQL: instead each
// file is written to be safe to run again (IF NOT EXISTS, DROP TRIGGER IF EXISTS, INSERT
// IGNORE), is recorded only after it ran to the end, and a named lock (GET_LOCK) keeps two
// migrators from running at once.
import { missingObjects, type SchemaObjectStatus } from '../schema-objects.js';
import type { MysqlDatabase, MysqlQueryable } from './connection.js';
import { inspectMysqlSchema, MYSQL_SCHEMA_OBJECTS } from './schema-objects.js';

/** A migration file as the runner reads it. */
export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/** The name of the session lock held while migrating; seconds to wait for it. */
const LOCK_NAME = 'dbbeat_migrate';
const LOCK_WAIT_SECONDS = 120;

const CREATE_HISTORY_TABLE = `
  CREATE TABLE IF NOT EXISTS dbbeat_migrations (
    name varchar(191) NOT NULL,
    checksum char(64) NOT NULL,
    applied_at datetime(6) NOT NULL,
    PRIMARY KEY (name)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

/**
 * Applies the files not yet recorded in dbbeat_migrations, in order, on one connection
 * holding the named lock. `checkHistory` sees the history first and throws to stop
 * (an edited file). `wrapFailure` turns a file's error into the runner's error type.
 * Returns the names applied.
 */
export async function applyMysqlMigrations(
  db: MysqlDatabase,
  files: readonly MigrationFile[],
  checkHistory: (history: readonly { name: string; checksum: string }[]) => void,
  wrapFailure: (fileName: string, error: unknown) => Error,
  log?: (message: string) => void,
): Promise<string[]> {
  return db.withScriptConnection(async (connection) => {
    const [lock] = await connection.query<{ got: number | null }>('SELECT GET_LOCK(?, ?) AS got', [
      LOCK_NAME,
      LOCK_WAIT_SECONDS,
    ]);
    if (lock?.got !== 1)
      throw new Error(`another dbbeat migrate held the lock "${LOCK_NAME}" for ${LOCK_WAIT_SECONDS} s`);
    try {
      return await applyUnderLock(connection, files, checkHistory, wrapFailure, log);
    } finally {
      await connection.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]).catch(() => undefined);
    }
  });
}

async function applyUnderLock(
  connection: MysqlQueryable,
  files: readonly MigrationFile[],
  checkHistory: (history: readonly { name: string; checksum: string }[]) => void,
  wrapFailure: (fileName: string, error: unknown) => Error,
  log?: (message: string) => void,
): Promise<string[]> {
  await connection.execute(CREATE_HISTORY_TABLE);
  const history = await connection.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM dbbeat_migrations',
  );
  checkHistory(history);
  const done = new Set(history.map((row) => row.name));
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file.name)) continue;
    try {
      await connection.execute(file.sql);
    } catch (error) {
      throw wrapFailure(file.name, error);
    }
    await connection.execute(
      'INSERT INTO dbbeat_migrations (name, checksum, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))',
      [file.name, file.checksum],
    );
    applied.push(file.name);
    log?.(`applied mysql/${file.name}`);
  }
  return applied;
}

/**
 * Checksums say the files were applied, not that their objects are still there: finds
 * dbbeat's objects that are missing (schema-objects.ts) and re-applies, under the named
 * lock, the files that create them and every later file that creates objects too (0003
 * re-creates the task update trigger that 0005 redefines). Each file is idempotent. The
 * history is left as it is. Returns the objects missing before and those still missing.
 */
export async function repairMysqlSchema(
  db: MysqlDatabase,
  files: readonly MigrationFile[],
  wrapFailure: (fileName: string, error: unknown) => Error,
): Promise<{ before: SchemaObjectStatus[]; missing: SchemaObjectStatus[] }> {
  const before = missingObjects(await inspectMysqlSchema(db));
  if (before.length === 0) return { before, missing: [] };
  const first = Math.min(
    ...before.map((object) => files.findIndex((file) => file.name === object.migration)).filter((index) => index >= 0),
  );
  const owners = new Set(MYSQL_SCHEMA_OBJECTS.map((object) => object.migration));
  await db.withScriptConnection(async (connection) => {
    const [lock] = await connection.query<{ got: number | null }>('SELECT GET_LOCK(?, ?) AS got', [
      LOCK_NAME,
      LOCK_WAIT_SECONDS,
    ]);
    if (lock?.got !== 1)
      throw new Error(`another dbbeat migrate held the lock "${LOCK_NAME}" for ${LOCK_WAIT_SECONDS} s`);
    try {
      for (const [index, file] of files.entries()) {
        if (index < first || !owners.has(file.name)) continue;
        try {
          await connection.execute(file.sql);
        } catch (error) {
          throw wrapFailure(file.name, error);
        }
      }
    } finally {
      await connection.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]).catch(() => undefined);
    }
  });
  return { before, missing: missingObjects(await inspectMysqlSchema(db)) };
}
