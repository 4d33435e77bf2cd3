// Opens dbbeat's database: a PostgreSQL server when given a URL, otherwise the embedded
// PGlite in a data folder (directly, or through the process that serves that folder).
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';

import { findLiveServer } from './data-dir.js';
import type { Database } from './database.js';
import { PGliteDatabase } from './pglite-database.js';
import { PostgresDatabase } from './postgres-database.js';

export { migrate, MigrationChecksumError, MigrationFailedError } from './migrate.js';
export { DataDirInUseError } from './data-dir.js';

/** The default embedded data folder, relative to the working directory. */
export const DEFAULT_DATA_DIR = './.dbbeat';

export interface OpenDatabaseOptions {
  /** postgres:// or postgresql:// URL. Without one, the embedded PGlite is used. */
  databaseUrl?: string;
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

export interface OpenDatabase extends Database {
  /** Where the data is, for logs: the URL without its password, or the embedded folder. */
  readonly description: string;
  /** For `new PrismaClient({ adapter: db.prismaAdapter() })` on this same database. */
  prismaAdapter(): SqlDriverAdapterFactory;
}

/** A database URL that is not PostgreSQL's. */
export class UnsupportedDatabaseUrlError extends Error {
  constructor(readonly databaseUrl: string) {
    super(`DATABASE_URL must start with postgres:// or postgresql://, got "${databaseUrl.replace(/:[^:@/]*@/, ':***@')}"`);
    this.name = 'UnsupportedDatabaseUrlError';
  }
}

/**
 * Opens the database named by the options (with neither `databaseUrl` nor `dataDir`,
 * those of the environment: DATABASE_URL, DBBEAT_DATA_DIR).
 *
 * - `databaseUrl` → a `pg` pool on that server.
 * - otherwise the embedded PGlite in `dataDir`: if another process serves that folder
 *   (a live server.json), a one-connection pool to it, even when `serve` is asked for
 *   (only one process can own the folder); else this process opens the folder itself
 *   (taking its lock; throws DataDirInUseError if a live process holds it) and, with
 *   `serve`, serves it on a random local port.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<OpenDatabase> {
  // Called with neither a URL nor a folder, follow the environment as the CLI does.
  if (options.databaseUrl === undefined && options.dataDir === undefined) {
    options = { ...options, databaseUrl: process.env.DATABASE_URL, dataDir: process.env.DBBEAT_DATA_DIR };
  }
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) throw new UnsupportedDatabaseUrlError(options.databaseUrl);
    return new PostgresDatabase({
      connectionString: options.databaseUrl,
      ...(options.poolSize !== undefined && { poolSize: options.poolSize }),
      ...(options.log !== undefined && { log: options.log }),
    });
  }
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const server = await findLiveServer(dataDir);
  if (server !== undefined) {
    return new ServedPGliteClient(`postgres://postgres@${server.host}:${server.port}/postgres?sslmode=disable`, {
      dataDir,
      ...(options.log !== undefined && { log: options.log }),
    });
  }
  return PGliteDatabase.open({ dataDir, ...(options.serve !== undefined && { serve: options.serve }) });
}

/**
 * A client of an embedded database served by another process, through its socket: a pool
 * of one connection, since the server runs one client's statements at a time anyway.
 */
class ServedPGliteClient extends PostgresDatabase {
  override readonly description: string;
  private readonly dataDir: string;

  constructor(connectionString: string, options: { dataDir: string; log?: (message: string) => void }) {
    super({ connectionString, poolSize: 1, ...(options.log !== undefined && { log: options.log }) });
    this.dataDir = options.dataDir;
    this.description = `embedded PGlite at ${options.dataDir} (served by another process at ${connectionString.replace(/\?.*$/, '')})`;
  }

  /**
   * Notifications do not reach a socket client reliably (PGlite is one session, and the
   * owner's tap consumes them), so this listens to nothing: the caller's polling of
   * last_update is what notices changes here. Logged once so the fallback is visible.
   */
  override async listen(channel: string): Promise<() => Promise<void>> {
    this.log(
      `listen(${channel}): not available through the embedded database served from ${this.dataDir}; ` +
        'changes are noticed by polling only',
    );
    return async () => {};
  }
}
