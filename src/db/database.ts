// The contract of a database connection as the beat, the migration runner and the
// CLI use it. Implemented for PostgreSQL (postgres/), embedded PGlite (pglite/) and
// MySQL/MariaDB (mysql/).
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';

import type { BinaryFields } from './postgres/copy-out.js';

export interface Database {
  readonly kind: 'postgres' | 'pglite' | 'mysql';
  /** Runs one parameterised statement ($1, $2 … on PostgreSQL, ? on MySQL) and returns its rows. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]>;
  /**
   * A PostgreSQL server only: runs `COPY (SELECT …) TO STDOUT (FORMAT binary)` (no
   * parameters: the text is complete) and decodes each row with `decode`, in order.
   */
  copyOut?<Row>(sql: string, decode: (fields: BinaryFields) => Row): Promise<Row[]>;
  /** Runs `work` in one transaction on one connection. */
  transaction<T>(work: (tx: Pick<Database, 'query'>) => Promise<T>): Promise<T>;
  /** LISTEN on a channel; returns a function that stops listening. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** A Database opened by `openDatabase`, with what the CLI and the Prisma client need besides. */
export interface OpenDatabase extends Database {
  /** Where the data is, for logs: the URL without its password, or the embedded folder. */
  readonly description: string;
  /** For `new PrismaClient({ adapter: db.prismaAdapter() })` on this same database. */
  prismaAdapter(): SqlDriverAdapterFactory;
}
