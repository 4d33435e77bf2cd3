// A Database on an embedded PGlite that this process owns, optionally served on a local
// port (with @electric-sql/pglite-socket) so that other processes can reach it.
import { PGlite, types } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';

import type { Database } from '../database.js';
import { lazyAdapter } from '../prisma-adapter.js';
import { DEFAULT_DATA_DIR, lockDataDir, pgliteFolder, removeServerInfo, writeServerInfo } from './data-dir.js';
import { tapServedNotifications } from './notification-tap.js';

const SERVE_HOST = '127.0.0.1';
const FOREIGN_TRANSACTION_POLL_MS = 2;
const MAX_SERVED_CONNECTIONS = 8;

// Parse as `pg` does, so that rows look the same on either kind of database:
// bigint and numeric as strings (no precision lost), not as BigInt / number.
const PG_COMPATIBLE_PARSERS = {
  [types.INT8]: (value: string) => value,
  [types.NUMERIC]: (value: string) => value,
};

export interface PGliteDatabaseOptions {
  /** The data folder (holds the database, the lock and, when serving, server.json). */
  dataDir?: string;
  /** Serve the database on 127.0.0.1 (random port) and record it in server.json. */
  serve?: boolean;
  /** An already opened PGlite (e.g. in-memory, for tests); no lock or data folder then. */
  pglite?: PGlite;
}

/** Embedded PGlite in this process. */
export class PGliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly description: string;
  private address: { host: string; port: number } | undefined;
  private server: PGLiteSocketServer | undefined;
  /** In-process listeners by channel, also fed with notifications from socket clients. */
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();

  private constructor(
    readonly pglite: PGlite,
    private readonly dataDir: string | undefined,
    private readonly releaseLock: (() => Promise<void>) | undefined,
  ) {
    this.description = dataDir === undefined ? 'embedded PGlite in memory' : `embedded PGlite at ${dataDir}`;
  }

  /** Where the database is served (host 127.0.0.1, a random port), when it is. */
  get serverAddress(): { host: string; port: number } | undefined {
    return this.address;
  }

  /** A fresh in-memory database (for tests and previews): no folder, lock or server. */
  static async openInMemory(): Promise<PGliteDatabase> {
    return new PGliteDatabase(await PGlite.create({ parsers: PG_COMPATIBLE_PARSERS }), undefined, undefined);
  }

  /** Opens (creating if needed) the database in `dataDir`, taking the folder's lock. */
  static async open(options: PGliteDatabaseOptions): Promise<PGliteDatabase> {
    if (options.pglite !== undefined) {
      return new PGliteDatabase(options.pglite, undefined, undefined);
    }
    const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
    const releaseLock = await lockDataDir(dataDir);
    let pglite: PGlite | undefined;
    let database: PGliteDatabase | undefined;
    try {
      pglite = await PGlite.create(pgliteFolder(dataDir), { parsers: PG_COMPATIBLE_PARSERS });
      database = new PGliteDatabase(pglite, dataDir, releaseLock);
      if (options.serve === true) await database.serve(dataDir);
      return database;
    } catch (error) {
      await database?.server?.stop().catch(() => undefined);
      await pglite?.close().catch(() => undefined);
      await releaseLock();
      throw error;
    }
  }

  private async serve(dataDir: string): Promise<void> {
    const tapped = tapServedNotifications(this.pglite, (channel, payload) => this.dispatch(channel, payload));
    // Loaded only when serving: other commands open the folder without a server.
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const server = new PGLiteSocketServer({
      db: tapped,
      host: SERVE_HOST,
      port: 0,
      // Clients use a pool of one each; a few may be connected at once (the server
      // keeps one client's transaction together). Also leaves room for liveness probes.
      maxConnections: MAX_SERVED_CONNECTIONS,
    });
    this.server = server;
    await server.start();
    const port = Number(server.getServerConn().split(':').pop());
    this.address = { host: SERVE_HOST, port };
    await writeServerInfo(dataDir, { host: SERVE_HOST, port, pid: process.pid });
  }

  private dispatch(channel: string, payload: string): void {
    for (const onNotify of this.listeners.get(channel) ?? []) onNotify(payload);
  }

  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]> {
    await this.waitForForeignTransaction();
    if (params === undefined || params.length === 0) {
      // exec() runs several statements (migrations); the rows are those of the last one.
      const results = await this.pglite.exec(sql);
      return (results[results.length - 1]?.rows ?? []) as Row[];
    }
    return (await this.pglite.query<Row>(sql, [...params])).rows;
  }

  async transaction<T>(work: (tx: Pick<Database, 'query'>) => Promise<T>): Promise<T> {
    await this.waitForForeignTransaction();
    return this.pglite.transaction(async (tx) =>
      work({
        query: async <Row extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) => {
          if (params === undefined || params.length === 0) {
            const results = await tx.exec(sql);
            return (results[results.length - 1]?.rows ?? []) as Row[];
          }
          return (await tx.query<Row>(sql, [...params])).rows;
        },
      }),
    );
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    // PGlite delivers what this process's own statements notify; dispatch() adds what
    // socket clients' statements notify.
    const unlisten = await this.pglite.listen(channel, onNotify);
    let channelListeners = this.listeners.get(channel);
    if (channelListeners === undefined) this.listeners.set(channel, (channelListeners = new Set()));
    channelListeners.add(onNotify);
    return async () => {
      channelListeners.delete(onNotify);
      await unlisten();
    };
  }

  /** An adapter for `new PrismaClient({ adapter })` on this embedded database. */
  prismaAdapter(): SqlDriverAdapterFactory {
    return lazyAdapter(
      'postgres',
      'pglite-prisma-adapter',
      async () => new (await import('pglite-prisma-adapter')).PrismaPGlite(this.pglite),
    );
  }

  async close(): Promise<void> {
    if (this.server !== undefined) {
      await this.server.stop();
      if (this.dataDir !== undefined) await removeServerInfo(this.dataDir);
    }
    await this.pglite.close();
    await this.releaseLock?.();
  }

  /**
   * PGlite is one PostgreSQL session shared by this process and the socket's client.
   * While that client is inside a transaction, a query of ours would run inside it
   * (and vanish with its rollback), so wait for it to finish first.
   * A small race remains: a client BEGIN can slip in between this check and our query.
   */
  private async waitForForeignTransaction(): Promise<void> {
    if (this.server === undefined) return;
    while (this.pglite.isInTransaction()) {
      await new Promise((resolve) => setTimeout(resolve, FOREIGN_TRANSACTION_POLL_MS));
    }
  }
}
