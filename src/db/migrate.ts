// Applies the numbered SQL files in ../../migrations in order, once each, and records
// them in dbbeat_migrations with a checksum so that an edited file is noticed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Database } from './database.js';
import type { MysqlDatabase } from './mysql/connection.js';
import { inspectPostgresSchema } from './postgres/schema-objects.js';
import { describeObject, missingObjects, type SchemaObjectStatus } from './schema-objects.js';

/**
 * The folder of dbbeat's own migration files: `migrations/` at the package root, found
 * from this module's location whether it runs from src/ (tsx) or from a build in dist/.
 */
export const defaultMigrationsDirectory = findPackageMigrations();

function findPackageMigrations(): string {
  for (const up of ['../../migrations/', '../../../migrations/']) {
    const candidate = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(candidate, '0001_django_celery_beat_tables.sql'))) return candidate;
  }
  return fileURLToPath(new URL('../../migrations/', import.meta.url));
}

/** Any fixed number: the key of the advisory lock that serialises concurrent migrators. */
const MIGRATION_LOCK_KEY = 727_274_001;

const MIGRATION_FILE_NAME = /^\d{4}_[A-Za-z0-9_]+\.sql$/;

export interface MigrateOptions {
  /**
   * Folder of `NNNN_name.sql` files; defaults to dbbeat's `migrations/` for PostgreSQL and
   * PGlite, `migrations/mysql/` for MySQL and MariaDB.
   */
  directory?: string;
  /** Receives one line per applied file. */
  log?: (message: string) => void;
}

export interface MigrateResult {
  /** Names of the files applied by this call, in order (empty when up to date). */
  applied: string[];
  /** dbbeat objects that were missing (dropped by hand, say) and were created again. */
  repaired: SchemaObjectStatus[];
  /** dbbeat objects still missing after the repair (none when it worked). */
  missing: SchemaObjectStatus[];
}

/** A migration file already applied whose content has changed since. */
export class MigrationChecksumError extends Error {
  constructor(
    readonly fileName: string,
    readonly appliedChecksum: string,
    readonly currentChecksum: string,
  ) {
    super(
      `migration ${fileName} was edited after it was applied ` +
        `(applied checksum ${appliedChecksum}, file now ${currentChecksum}); ` +
        'migrations are append-only: restore the file and add a new one instead',
    );
    this.name = 'MigrationChecksumError';
  }
}

/** A migration file that failed to apply; its transaction was rolled back. */
export class MigrationFailedError extends Error {
  constructor(
    readonly fileName: string,
    cause: unknown,
  ) {
    super(`migration ${fileName} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'MigrationFailedError';
  }
}

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/**
 * Brings the database's schema up to date: applies every migration file not yet recorded
 * in `dbbeat_migrations`, each in its own transaction, in file-name order.
 *
 * Safe to run from several processes at once: every file's transaction first takes a
 * transaction-scoped advisory lock and re-reads the history, so each file is applied by
 * exactly one of them and the others see it done. Throws {@link MigrationChecksumError}
 * when an applied file has been edited since, before applying anything.
 */
export async function migrate(db: Database | MysqlDatabase, options: MigrateOptions = {}): Promise<MigrateResult> {
  if (db.kind === 'mysql') {
    // Loaded only for MySQL: PostgreSQL users never load the MariaDB driver.
    const { applyMysqlMigrations } = await import('./mysql/migrate.js');
    const files = await readMigrationFiles(options.directory ?? join(defaultMigrationsDirectory, 'mysql'));
    const applied = await applyMysqlMigrations(
      db as MysqlDatabase, // the only Database of kind 'mysql' (see open.ts)
      files,
      (history) => assertUnchanged(files, history),
      (fileName, error) => new MigrationFailedError(fileName, error),
      options.log,
    );
    if (options.directory !== undefined) return { applied, repaired: [], missing: [] };
    const { repairMysqlSchema } = await import('./mysql/migrate.js');
    const { before, missing } = await repairMysqlSchema(
      db as MysqlDatabase,
      files,
      (fileName, error) => new MigrationFailedError(fileName, error),
    );
    const still = new Set(missing.map(describeObject));
    const repaired = before.filter((object) => !still.has(describeObject(object)));
    for (const object of repaired)
      options.log?.(`repaired ${describeObject(object)} (re-applied mysql/${object.migration})`);
    return { applied, repaired, missing };
  }
  const pg = db; // kind postgres or pglite
  const files = await readMigrationFiles(options.directory ?? defaultMigrationsDirectory);
  const applied: string[] = [];
  for (const file of (await allRecorded(pg, files)) ? [] : files) {
    const wasApplied = await pg.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await tx.query(CREATE_HISTORY_TABLE);
      const history = await tx.query<{ name: string; checksum: string }>(
        'SELECT name, checksum FROM dbbeat_migrations',
      );
      // Checked on every pass (cheap), so an edited file stops the run before any later
      // file is applied on top of it.
      assertUnchanged(files, history);
      if (history.some((row) => row.name === file.name)) return false;
      try {
        await tx.query(file.sql);
      } catch (error) {
        throw new MigrationFailedError(file.name, error);
      }
      await tx.query('INSERT INTO dbbeat_migrations (name, checksum, applied_at) VALUES ($1, $2, clock_timestamp())', [
        file.name,
        file.checksum,
      ]);
      return true;
    });
    if (wasApplied) {
      applied.push(file.name);
      options.log?.(`applied ${file.name}`);
    }
  }
  // dbbeat's own objects are checked when its own files are applied (not another folder's).
  const { repaired, missing } =
    options.directory === undefined ? await repairSchema(db, files) : { repaired: [], missing: [] };
  for (const object of repaired) options.log?.(`repaired ${describeObject(object)} (re-applied ${object.migration})`);
  return { applied, repaired, missing };
}

/**
 * Whether every file is recorded as applied already (an edited one throws, as in the
 * loop): one read on each start of an up-to-date database, where a transaction per file
 * (lock, history table, history) took five round trips each. False when the history
 * cannot be read, as before the first migration: the loop then creates it.
 */
async function allRecorded(db: Pick<Database, 'query'>, files: readonly MigrationFile[]): Promise<boolean> {
  let history: { name: string; checksum: string }[];
  try {
    history = await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM dbbeat_migrations');
  } catch {
    return false;
  }
  assertUnchanged(files, history);
  const recorded = new Set(history.map((row) => row.name));
  return files.every((file) => recorded.has(file.name));
}

/**
 * Checksums say the files were applied, not that their objects are still there: finds
 * dbbeat's objects that are missing (or disabled) and re-applies the migration files that
 * create them (each is idempotent; see postgres/schema-objects.ts), in order, in one
 * transaction under the migration lock. The history is left as it is.
 */
async function repairSchema(
  db: Database,
  files: readonly MigrationFile[],
): Promise<{ repaired: SchemaObjectStatus[]; missing: SchemaObjectStatus[] }> {
  const before = missingObjects(await inspectPostgresSchema(db));
  if (before.length === 0) return { repaired: [], missing: [] };
  const owners = new Set(before.map((object) => object.migration));
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    for (const file of files) {
      if (!owners.has(file.name)) continue;
      try {
        await tx.query(file.sql);
      } catch (error) {
        throw new MigrationFailedError(file.name, error);
      }
    }
  });
  const missing = missingObjects(await inspectPostgresSchema(db));
  const still = new Set(missing.map(describeObject));
  return { repaired: before.filter((object) => !still.has(describeObject(object))), missing };
}

/** What `dbbeat doctor` reports about the migration files. */
export interface MigrationStatus {
  /** Files recorded as applied, with the checksum they were applied with. */
  applied: string[];
  /** Files not applied yet. */
  pending: string[];
  /** Applied files whose content changed since. */
  edited: string[];
}

/** Compares the migration files with the history, without changing anything. */
export async function migrationStatus(
  db: Pick<Database, 'query'>,
  directory = defaultMigrationsDirectory,
  dialect: 'postgres' | 'mysql' = 'postgres',
): Promise<MigrationStatus> {
  const files = await readMigrationFiles(directory);
  const [exists] = await db.query<{ present: boolean | number }>(
    dialect === 'mysql'
      ? `SELECT COUNT(*) > 0 AS present FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'dbbeat_migrations'`
      : `SELECT to_regclass('dbbeat_migrations') IS NOT NULL AS present`,
  );
  const history =
    exists !== undefined && Boolean(Number(exists.present))
      ? await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM dbbeat_migrations')
      : [];
  const byName = new Map(history.map((row) => [row.name, row.checksum]));
  return {
    applied: files.filter((file) => byName.has(file.name)).map((file) => file.name),
    pending: files.filter((file) => !byName.has(file.name)).map((file) => file.name),
    edited: files
      .filter((file) => byName.has(file.name) && byName.get(file.name) !== file.checksum)
      .map((file) => file.name),
  };
}

const CREATE_HISTORY_TABLE = `
  CREATE TABLE IF NOT EXISTS dbbeat_migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL
  )`;

function assertUnchanged(
  files: readonly MigrationFile[],
  history: readonly { name: string; checksum: string }[],
): void {
  for (const row of history) {
    const file = files.find((candidate) => candidate.name === row.name);
    // A recorded file missing from the folder is tolerated: an older dbbeat may run
    // against a database that a newer one migrated.
    if (file !== undefined && file.checksum !== row.checksum) {
      throw new MigrationChecksumError(file.name, row.checksum, file.checksum);
    }
  }
}

async function readMigrationFiles(directory: string): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((name) => MIGRATION_FILE_NAME.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(directory, name), 'utf8');
      // Hashed with LF line ends, so a checkout that converts them is not "edited".
      const checksum = createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
      return { name, sql, checksum };
    }),
  );
}
