// A Database on a PostgreSQL server, through a pg Pool. LISTEN uses its own connection,
// re-established with backoff whenever the server drops it.
import type { SqlDriverAdapterFactory } from '@prisma/client/runtime/client';
import pg from 'pg';

import { redactUrl } from '../../redact-url.js';
import type { Database } from '../database.js';
import { type BinaryFields, CopyOutQuery } from './copy-out.js';
import { lazyAdapter } from '../prisma-adapter.js';

export interface PostgresDatabaseOptions {
  connectionString: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Receives connection problems that are handled (pool errors, listener reconnects). */
  log?: (message: string) => void;
}

const LISTEN_RETRY_MIN_MS = 100;
const LISTEN_RETRY_MAX_MS = 5_000;

/** Pooled connections kept open while idle: about what a leading beat uses at once (sending, records, history, lease). */
const KEEP_CONNECTIONS = 4;

/** PostgreSQL through `pg`: `query` on the pool, `transaction` on one pooled client. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly description: string;
  private readonly pool: pg.Pool;
  protected readonly log: (message: string) => void;
  private readonly stopListeners = new Set<() => Promise<void>>();

  constructor(private readonly options: PostgresDatabaseOptions) {
    this.description = redactUrl(options.connectionString);
    this.log = options.log ?? ((message) => console.error(message));
    const max = options.poolSize ?? 10;
    // `min`: that many connections outlive the pool's 10 s idle timeout. A beat is often
    // quiet for longer (the minute before a crontab burst); its next sends then found every
    // connection closed and waited, in the middle of the burst, for new backends to start
    // and warm their catalog caches (seen as the first second of a steady load lagging).
    this.pool = new pg.Pool({ connectionString: options.connectionString, max, min: Math.min(KEEP_CONNECTIONS, max) });
    // An idle client whose backend died emits 'error' on the pool; without a handler
    // Node would crash the process. The pool replaces the client by itself.
    this.pool.on('error', (error) => this.log(`database pool: idle connection lost: ${error.message}`));
  }

  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<Row[]> {
    return rowsOf<Row>(await this.pool.query(sql, params as unknown[] | undefined));
  }

  async copyOut<Row>(sql: string, decode: (fields: BinaryFields) => Row): Promise<Row[]> {
    // pool.query runs a Submittable like a query (client checked out, released, its
    // errors caught) and resolves with what the Submittable's callback is given.
    return await (this.pool.query(new CopyOutQuery(sql, decode)) as unknown as Promise<Row[]>);
  }

  async transaction<T>(work: (tx: Pick<Database, 'query'>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work({
        query: async <Row extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) =>
          rowsOf<Row>(await client.query(sql, params as unknown[] | undefined)),
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable: tell the pool to discard it rather than reuse it.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const listener = new ReconnectingListener(this.options.connectionString, channel, onNotify, this.log);
    await listener.start();
    const stop = async () => {
      this.stopListeners.delete(stop);
      await listener.stop();
    };
    this.stopListeners.add(stop);
    return stop;
  }

  /** An adapter for `new PrismaClient({ adapter })` that shares this pool. */
  prismaAdapter(): SqlDriverAdapterFactory {
    return lazyAdapter(
      'postgres',
      '@prisma/adapter-pg',
      async () => new (await import('@prisma/adapter-pg')).PrismaPg(this.pool),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.stopListeners].map((stop) => stop()));
    await this.pool.end();
  }
}

/** A dedicated connection holding one LISTEN; after a drop it reconnects and calls onNotify(''). */
class ReconnectingListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = LISTEN_RETRY_MIN_MS;

  constructor(
    private readonly connectionString: string,
    private readonly channel: string,
    private readonly onNotify: (payload: string) => void,
    private readonly log: (message: string) => void,
  ) {}

  /** Connects the first time; fails if the server cannot be reached now. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.onNotify(message.payload ?? '');
    });
    client.on('error', (error) => this.dropped(client, error));
    client.on('end', () => this.dropped(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryDelayMs = LISTEN_RETRY_MIN_MS;
  }

  private dropped(client: pg.Client, error: Error): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    this.log(`database listener on ${this.channel}: ${error.message}; reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, LISTEN_RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        // Notifications sent while we were away are lost: the caller re-polls.
        () => {
          if (!this.stopped) this.onNotify('');
        },
        (error: unknown) => {
          this.log(`database listener on ${this.channel}: reconnect failed: ${String(error)}`);
          this.scheduleReconnect();
        },
      );
    }, delay);
  }
}

function rowsOf<Row>(result: pg.QueryResult | pg.QueryResult[]): Row[] {
  // A parameterless text with several statements yields one result per statement.
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []) as Row[];
}
