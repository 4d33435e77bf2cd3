// Opens dbbeat's database: a PostgreSQL or MySQL/MariaDB server when given a URL, otherwise
// the embedded PGlite in a data folder (directly, or through the process that serves it).
// Each kind's code is imported only when that kind is opened.
import { redactUrl } from '../redact-url.js';
import type { Database, OpenDatabase } from './database.js';
import type { MysqlDatabase } from './mysql/connection.js';
import { MysqlRunStore } from './mysql/run-store.js';
import { MysqlStore } from './mysql/store.js';
import { DEFAULT_DATA_DIR, findLiveServer } from './pglite/data-dir.js';
import { PostgresRunStore } from './postgres/run-store.js';
import { PostgresStore } from './postgres/store.js';
import type { RunHistory, RunStore } from './run-store.js';
import type { BeatStore } from './store.js';

export { migrate, MigrationChecksumError, MigrationFailedError } from './migrate.js';
export { DataDirInUseError, DEFAULT_DATA_DIR } from './pglite/data-dir.js';
export type { OpenDatabase } from './database.js';

export interface OpenDatabaseOptions {
  /** postgres://, postgresql://, mysql:// or mariadb:// URL. Without one, the embedded PGlite is used. */
  databaseUrl?: string;
  /**
   * MySQL/MariaDB only: the IANA zone of the naive DATETIMEs in django-celery-beat's tables
   * (Django's TIME_ZONE when it runs with USE_TZ = False). Default UTC (USE_TZ = True).
   * Env (when neither databaseUrl nor dataDir is given): DBBEAT_DB_TIMEZONE.
   */
  dbTimeZone?: string;
  /** The embedded database's folder (default ./.dbbeat, created if missing). */
  dataDir?: string;
  /**
   * Embedded only: own the folder and serve it on 127.0.0.1 so other processes can use it
   * while this one runs (the beat does this). Ignored with a databaseUrl.
   */
  serve?: boolean;
  /** Pool size for PostgreSQL (default 10). A served PGlite always gets a pool of one. */
  poolSize?: number;
  /** Receives connection problems that are handled rather than thrown. */
  log?: (message: string) => void;
}

/** The URL schemes dbbeat opens, as the error for another one lists them. */
export const SUPPORTED_URL_KINDS = 'postgres://, postgresql://, mysql:// or mariadb://';

/** Which dialect a database URL names, or undefined for a kind dbbeat does not support. */
export function databaseKindOf(url: string): 'postgres' | 'mysql' | undefined {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres';
  if (/^(mysql|mariadb):\/\//i.test(url)) return 'mysql';
  return undefined;
}

/** A database URL of a kind dbbeat does not support. */
export class UnsupportedDatabaseUrlError extends Error {
  constructor(readonly databaseUrl: string) {
    super(`DATABASE_URL must start with ${SUPPORTED_URL_KINDS}, got "${redactUrl(databaseUrl)}"`);
    this.name = 'UnsupportedDatabaseUrlError';
  }
}

/**
 * Opens the database named by the options (with neither `databaseUrl` nor `dataDir`,
 * those of the environment: DATABASE_URL, DBBEAT_DATA_DIR).
 *
 * - `databaseUrl` → a `pg` pool on that PostgreSQL server, or a `mariadb` pool on that
 *   MySQL/MariaDB server (whose version is checked on first use).
 * - otherwise the embedded PGlite in `dataDir`: if another process serves that folder
 *   (a live server.json), a one-connection pool to it, even when `serve` is asked for
 *   (only one process can own the folder); else this process opens the folder itself
 *   (taking its lock; throws DataDirInUseError if a live process holds it) and, with
 *   `serve`, serves it on a random local port.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<OpenDatabase> {
  // Called with neither a URL nor a folder, follow the environment as the CLI does.
  if (options.databaseUrl === undefined && options.dataDir === undefined) {
    options = {
      ...options,
      databaseUrl: process.env.DATABASE_URL,
      dataDir: process.env.DBBEAT_DATA_DIR,
      dbTimeZone: options.dbTimeZone ?? process.env.DBBEAT_DB_TIMEZONE,
    };
  }
  const log = options.log !== undefined ? { log: options.log } : {};
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    const kind = databaseKindOf(options.databaseUrl);
    if (kind === undefined) throw new UnsupportedDatabaseUrlError(options.databaseUrl);
    if (kind === 'mysql') {
      const { MysqlDatabase } = await import('./mysql/connection.js');
      return new MysqlDatabase({
        url: options.databaseUrl,
        ...(options.dbTimeZone !== undefined && { dbTimeZone: options.dbTimeZone }),
        ...(options.poolSize !== undefined && { poolSize: options.poolSize }),
        ...log,
      });
    }
    const { PostgresDatabase } = await import('./postgres/connection.js');
    return new PostgresDatabase({
      connectionString: options.databaseUrl,
      ...(options.poolSize !== undefined && { poolSize: options.poolSize }),
      ...log,
    });
  }
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const server = await findLiveServer(dataDir);
  if (server !== undefined) {
    const { ServedPGliteClient } = await import('./pglite/served-client.js');
    return new ServedPGliteClient(`postgres://postgres@${server.host}:${server.port}/postgres?sslmode=disable`, {
      dataDir,
      ...log,
    });
  }
  const { PGliteDatabase } = await import('./pglite/connection.js');
  return PGliteDatabase.open({ dataDir, ...(options.serve !== undefined && { serve: options.serve }) });
}

/** The beat's statements for this database, in its dialect. */
export function beatStoreFor(db: Database): BeatStore {
  switch (db.kind) {
    case 'postgres':
    case 'pglite':
      return new PostgresStore(db);
    case 'mysql':
      // Only MysqlDatabase has this kind (see openDatabase).
      return new MysqlStore(db as unknown as MysqlDatabase);
  }
}

/** Run history's statements (dbbeat_run) for this database, in its dialect. */
export function runStoreFor(db: Pick<Database, 'kind' | 'query'>): RunStore & RunHistory {
  switch (db.kind) {
    case 'postgres':
    case 'pglite':
      return new PostgresRunStore(db);
    case 'mysql':
      return new MysqlRunStore(db as unknown as MysqlDatabase);
  }
}
