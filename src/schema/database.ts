// The contract of a database connection as the beat and the CLI use it.
// Implemented for PostgreSQL (pg + @prisma/adapter-pg) and for embedded PGlite.

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /** Runs one parameterised statement ($1, $2 …) and returns its rows. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]>;
  /** Runs `work` in one transaction on one connection. */
  transaction<T>(work: (tx: Pick<Database, 'query'>) => Promise<T>): Promise<T>;
  /** LISTEN on a channel; returns a function that stops listening. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
