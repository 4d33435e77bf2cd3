// A Database on a MySQL 8 / MariaDB 10.6+ server, through a `mariadb` pool. Times come back
// as text (dateStrings) so that each reader decides their zone (see naive-time.ts).
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';
import mariadb from 'mariadb';

import { lazyAdapter } from '../prisma-adapter.js';
import { NaiveTimeZone } from './naive-time.js';
import { poolConfigOf } from './pool-config.js';
import { assertSupportedServer } from './server-version.js';
import { zonedPrismaAdapter } from './zoned-prisma-adapter.js';

export { poolConfigOf } from './pool-config.js';

export interface MysqlDatabaseOptions {
  /** mysql:// or mariadb:// URL: user, password, host, port (3306), database. */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** The zone of django-celery-beat's naive DATETIMEs (default UTC: Django's USE_TZ = True). */
  dbTimeZone?: string;
  /** Receives connection problems that are handled. */
  log?: (message: string) => void;
}

/** What `query` and a transaction's `query` can run: rows for a SELECT, [] otherwise. */
export interface MysqlQueryable {
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]>;
  /** Runs a statement that returns no rows; resolves to the rows it matched (found rows). */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
}

/**
 * MySQL or MariaDB through a `mariadb` pool. Placeholders are `?`; an array parameter in
 * `IN (?)` expands to a list. DATETIMEs come back as text, DECIMALs and BIGINTs as numbers,
 * booleans (tinyint(1)) as 0/1. The server's version is checked on first use
 * ({@link UnsupportedServerVersionError} below MySQL 8.0 or MariaDB 10.6).
 */
export class MysqlDatabase implements MysqlQueryable {
  readonly kind = 'mysql' as const;
  readonly description: string;
  readonly naiveTimes: NaiveTimeZone;
  private readonly pool: mariadb.Pool;
  private readonly log: (message: string) => void;
  private versionChecked: Promise<void> | undefined;

  constructor(private readonly options: MysqlDatabaseOptions) {
    this.description = describeMysqlUrl(options.url);
    this.log = options.log ?? ((message) => console.error(message));
    this.naiveTimes = new NaiveTimeZone(options.dbTimeZone ?? 'UTC');
    this.pool = mariadb.createPool({
      ...poolConfigOf(options.url),
      connectionLimit: options.poolSize ?? 10,
      dateStrings: true,
      decimalAsNumber: true,
      bigIntAsNumber: true,
      insertIdAsNumber: true,
      // Fail a query quickly while the server is away; the beat retries with backoff.
      acquireTimeout: 5_000,
      connectTimeout: 5_000,
    });
  }

  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]> {
    await this.checkVersion();
    return rowsOf<Row>(await this.pool.query(sql, params));
  }

  /** As query, each row an array of its columns' values in the statement's order (no object per row to name). */
  async queryArrays(sql: string, params?: readonly unknown[]): Promise<unknown[][]> {
    await this.checkVersion();
    return rowsOf<unknown[]>(await this.pool.query({ sql, rowsAsArray: true }, params));
  }

  async execute(sql: string, params?: readonly unknown[]): Promise<number> {
    await this.checkVersion();
    return affectedOf(await this.pool.query(sql, params));
  }

  /** Runs `work` in one transaction on one connection; rolls back if it throws. */
  async transaction<T>(work: (tx: MysqlQueryable) => Promise<T>): Promise<T> {
    await this.checkVersion();
    const connection = await this.pool.getConnection();
    try {
      await connection.beginTransaction();
      const result = await work(queryableOf(connection));
      await connection.commit();
      return result;
    } catch (error) {
      await connection.rollback().catch(() => undefined);
      throw error;
    } finally {
      await connection.release();
    }
  }

  /**
   * Runs `work` on one connection of its own that accepts several statements per query
   * (a migration file), holding no transaction: MySQL commits DDL statement by statement.
   */
  async withScriptConnection<T>(work: (connection: MysqlQueryable) => Promise<T>): Promise<T> {
    await this.checkVersion();
    const connection = await mariadb.createConnection({
      ...poolConfigOf(this.options.url),
      multipleStatements: true,
      dateStrings: true,
      bigIntAsNumber: true,
      connectTimeout: 5_000,
    });
    try {
      return await work(queryableOf(connection));
    } finally {
      await connection.end().catch(() => undefined);
    }
  }

  /**
   * An adapter for a Prisma client generated for MySQL (see src/model/client.ts), on a
   * pool of its own that the client closes on $disconnect.
   */
  prismaAdapter(): SqlDriverAdapterFactory {
    const config = { ...poolConfigOf(this.options.url), connectionLimit: 5 };
    const naiveTimes = this.naiveTimes;
    return lazyAdapter('mysql', '@prisma/adapter-mariadb', async () => {
      const adapter = new (await import('@prisma/adapter-mariadb')).PrismaMariaDb(config);
      return naiveTimes.isUtc ? adapter : zonedPrismaAdapter(adapter, naiveTimes);
    });
  }

  /** MySQL has no LISTEN: the beat's store polls the change log instead (see store.ts). */
  listen(): Promise<() => Promise<void>> {
    return Promise.resolve(() => Promise.resolve());
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private checkVersion(): Promise<void> {
    this.versionChecked ??= (async () => {
      const rows = rowsOf<{ version: string }>(
        await this.pool.query('SELECT VERSION() AS version').catch((error: unknown) => {
          throw serverAnswerOf(error);
        }),
      );
      assertSupportedServer(rows[0]?.version ?? '', this.description);
    })().catch((error: unknown) => {
      // A server that cannot be reached now is asked again next time; a refused version stays refused.
      if (!(error instanceof Error && error.name === 'UnsupportedServerVersionError')) this.versionChecked = undefined;
      throw error;
    });
    return this.versionChecked;
  }
}

/** The `mariadb` pool's error when it gave up waiting for a connection (ER_GET_CONNECTION_TIMEOUT). */
const POOL_TIMEOUT_ERRNO = 45028;

/**
 * The server's own answer behind a pool timeout: the pool retries a refused connection until
 * `acquireTimeout` and then throws errno 45028 with the last failure as its `cause`, so an
 * unknown database (1049) or refused credentials (1045) would look like a server that is away
 * and be retried forever. Any other error is returned as it is.
 */
function serverAnswerOf(error: unknown): unknown {
  const fields = error as { errno?: unknown; cause?: unknown } | null;
  if (fields?.errno !== POOL_TIMEOUT_ERRNO) return error;
  const cause = fields.cause as { errno?: unknown } | null | undefined;
  return typeof cause?.errno === 'number' ? cause : error;
}

function queryableOf(connection: mariadb.Connection | mariadb.PoolConnection): MysqlQueryable {
  return {
    query: async <Row extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) =>
      rowsOf<Row>(await connection.query(sql, params)),
    execute: async (sql: string, params?: readonly unknown[]) => affectedOf(await connection.query(sql, params)),
  };
}

function rowsOf<Row>(result: unknown): Row[] {
  // A SELECT gives an array of rows; INSERT/UPDATE/DDL an OkPacket; a multi-statement
  // query an array of those, whose rows we do not need.
  return Array.isArray(result) ? (result as Row[]) : [];
}

function affectedOf(result: unknown): number {
  const packet = result as { affectedRows?: number };
  return typeof packet?.affectedRows === 'number' ? packet.affectedRows : 0;
}

/** The URL without its password, for logs and messages. */
export function describeMysqlUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'a MySQL database (unparseable URL)';
  }
}
